"""Idempotency keys keep the ETag of the answer they replay

A POST's answer carries the ETag of the record it made, so that the client's next If-Match
needs no GET; a retry that replays the answer carries it too.

Revision ID: 6c1e9a0f3b27
Revises: 4b7e2f1c9a35
Create Date: 2026-12-05 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "6c1e9a0f3b27"
down_revision: str | None = "4b7e2f1c9a35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_column("etag")
