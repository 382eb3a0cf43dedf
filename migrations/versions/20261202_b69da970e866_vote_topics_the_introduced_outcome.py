"""vote topics, the introduced outcome

Revision ID: b69da970e866
Revises: cd889d141a0f
Create Date: 2026-12-02 15:05:05.651106
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b69da970e866"
down_revision: str | None = "cd889d141a0f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Enum columns are VARCHARs with a CHECK of their values (db_types.enum_column): a new value
# means a wider column and a new CHECK, on both backends. The values as of this revision:
OUTCOMES_BEFORE = ("scheduled", "passed", "failed", "tabled", "withdrawn")
OUTCOMES = ("introduced", *OUTCOMES_BEFORE)
TOPICS = ("opt_out", "detainer_policy", "other_related")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _width(values: Sequence[str]) -> int:
    return max(len(v) for v in values)


def upgrade() -> None:
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_vote_outcome"), type_="check")
        batch_op.alter_column(
            "outcome",
            existing_type=sa.String(_width(OUTCOMES_BEFORE)),
            type_=sa.String(_width(OUTCOMES)),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_vote_outcome"), sa.text(_one_of("outcome", OUTCOMES))
        )
        # Every vote recorded so far was about opting out: the default fills them.
        batch_op.add_column(
            sa.Column("topic", sa.String(_width(TOPICS)), server_default="opt_out", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_vote_topic"), sa.text(_one_of("topic", TOPICS))
        )
        batch_op.create_index(batch_op.f("ix_vote_topic"), ["topic"], unique=False)


def downgrade() -> None:
    # The old schema knows neither value: an introduced measure is pending, as a scheduled
    # vote is (the same stage); the topics are lost with their column.
    op.execute("UPDATE vote SET outcome = 'scheduled' WHERE outcome = 'introduced'")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_topic"))
        batch_op.drop_constraint(batch_op.f("ck_vote_topic"), type_="check")
        batch_op.drop_column("topic")
        batch_op.drop_constraint(batch_op.f("ck_vote_outcome"), type_="check")
        batch_op.alter_column(
            "outcome",
            existing_type=sa.String(_width(OUTCOMES)),
            type_=sa.String(_width(OUTCOMES_BEFORE)),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_vote_outcome"), sa.text(_one_of("outcome", OUTCOMES_BEFORE))
        )
