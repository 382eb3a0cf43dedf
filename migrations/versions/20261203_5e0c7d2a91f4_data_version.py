"""the data version: one row whose token every commit changing public data replaces

Caches of what is derived from the records (rendered public answers, another day's
statuses, the maps) are kept under it, in every app process: one primary-key read tells
them whether anything changed, where they counted and summed three thousand rows before.

Revision ID: 5e0c7d2a91f4
Revises: bcb8b3adcbe5
Create Date: 2026-12-03 17:20:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e0c7d2a91f4"
down_revision: str | None = "bcb8b3adcbe5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    # Random, as data_version.py makes each next one: two databases never share a token.
    op.bulk_insert(table, [{"id": 1, "token": secrets.randbits(63)}])


def downgrade() -> None:
    op.drop_table("data_version")
