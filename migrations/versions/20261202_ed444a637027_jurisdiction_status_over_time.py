"""jurisdiction_status over time: next_vote_on, campaign_closed_on, recompute_on

The stored status is today's: upcoming events no longer decide it, and `recompute_on` says
when an upcoming event's date comes and the row must be derived again. The new columns
start empty; `db upgrade` and every start derive every row again (status_projection.
refresh_all), which fills them.

Revision ID: ed444a637027
Revises: 5cfbd81ca808
Create Date: 2026-12-02 15:30:40.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ed444a637027"
down_revision: str | None = "5cfbd81ca808"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jurisdiction_status", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_vote_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("campaign_closed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("recompute_on", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_jurisdiction_status_recompute_on"), ["recompute_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("jurisdiction_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jurisdiction_status_recompute_on"))
        batch_op.drop_column("recompute_on")
        batch_op.drop_column("campaign_closed_on")
        batch_op.drop_column("next_vote_on")
