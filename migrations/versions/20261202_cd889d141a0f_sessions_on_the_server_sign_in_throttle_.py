"""sessions on the server, sign-in throttle per client

Revision ID: cd889d141a0f
Revises: 1467e3c023e1
Create Date: 2026-12-02 12:03:48.188446
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import optout_tracker.db_types

revision: str = "cd889d141a0f"
down_revision: str | None = "1467e3c023e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index("ix_user_session_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_user_session_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    # Throttle rows are minutes-old counts of failures: starting afresh loses nothing.
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_login_throttle_email"), type_="unique")
        batch_op.create_unique_constraint("email_client", ["email", "client"])


def downgrade() -> None:
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_constraint("email_client", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_login_throttle_email"), ["email"])
        batch_op.drop_column("client")

    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_session_updated_at"))
        batch_op.drop_index("ix_user_session_created_at")

    op.drop_table("user_session")
