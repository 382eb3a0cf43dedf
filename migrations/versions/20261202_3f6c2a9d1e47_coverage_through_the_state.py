"""coverage through the state: effective_status, its date and whose campaign; activated
despite opt-out

New columns of the derived status. Existing rows start as their defaults (`no_action`,
`own`, false); `db upgrade` and every start derive every row again (status_projection.
refresh_all), which fills them.

Revision ID: 3f6c2a9d1e47
Revises: ed444a637027
Create Date: 2026-12-02 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6c2a9d1e47"
down_revision: str | None = "ed444a637027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Enum columns are VARCHARs with a CHECK of their values (db_types.enum_column).
STATUSES = (
    "no_action",
    "vote_scheduled",
    "vote_failed",
    "vote_passed",
    "notified",
    "in_negotiation",
    "delayed",
    "denied",
    "notifications_only",
    "opted_out",
)
VIAS = ("own", "state")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _width(values: Sequence[str]) -> int:
    return max(len(v) for v in values)


def upgrade() -> None:
    with op.batch_alter_table("jurisdiction_status", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "effective_status",
                sa.String(_width(STATUSES)),
                server_default="no_action",
                nullable=False,
            )
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_jurisdiction_status_effective_status"),
            sa.text(_one_of("effective_status", STATUSES)),
        )
        batch_op.add_column(sa.Column("effective_status_since", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "effective_status_via",
                sa.String(_width(VIAS)),
                server_default="own",
                nullable=False,
            )
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_jurisdiction_status_effective_status_via"),
            sa.text(_one_of("effective_status_via", VIAS)),
        )
        batch_op.add_column(
            sa.Column(
                "activated_despite_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.create_index(
            batch_op.f("ix_jurisdiction_status_effective_status"),
            ["effective_status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_jurisdiction_status_activated_despite_opt_out"),
            ["activated_despite_opt_out"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("jurisdiction_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jurisdiction_status_activated_despite_opt_out"))
        batch_op.drop_index(batch_op.f("ix_jurisdiction_status_effective_status"))
        batch_op.drop_column("activated_despite_opt_out")
        batch_op.drop_constraint(
            batch_op.f("ck_jurisdiction_status_effective_status_via"), type_="check"
        )
        batch_op.drop_column("effective_status_via")
        batch_op.drop_column("effective_status_since")
        batch_op.drop_constraint(
            batch_op.f("ck_jurisdiction_status_effective_status"), type_="check"
        )
        batch_op.drop_column("effective_status")
