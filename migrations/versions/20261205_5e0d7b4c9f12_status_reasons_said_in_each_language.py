"""Status reasons are kept as a sentence and its parts, said in each reader's language

The stored English text is dropped: `db upgrade` derives every status again afterwards
(status_projection.refresh_all), which writes each reason in its new form.

Revision ID: 5e0d7b4c9f12
Revises: 3d8e5b2a7c41
Create Date: 2026-12-05 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e0d7b4c9f12"
down_revision: str | None = "3d8e5b2a7c41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jurisdiction_status", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
        batch_op.add_column(sa.Column("status_reason", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jurisdiction_status", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
