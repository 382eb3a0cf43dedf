"""announcements: what ICE, DHS or a state said to every campaign in a scope

Revision ID: 5cfbd81ca808
Revises: b69da970e866
Create Date: 2026-12-02 15:25:20.462717
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import optout_tracker.db_types

revision: str = "5cfbd81ca808"
down_revision: str | None = "b69da970e866"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column(
            "effect",
            sa.Enum(
                "none",
                "opt_out_denied",
                "notifications_only",
                "program_ended",
                name="effect",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("public_notes", sa.Text(), nullable=True),
        sa.Column("private_notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_announcement_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement")),
    )
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcement_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_announcement_announced_on"), ["announced_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_announcement_effect"), ["effect"], unique=False)
        batch_op.create_index(batch_op.f("ix_announcement_scope"), ["scope"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_announcement_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_updated_at"))
        batch_op.drop_index(batch_op.f("ix_announcement_scope"))
        batch_op.drop_index(batch_op.f("ix_announcement_effect"))
        batch_op.drop_index(batch_op.f("ix_announcement_announced_on"))
        batch_op.drop_index(batch_op.f("ix_announcement_agency_id"))

    op.drop_table("announcement")
