"""Follows keep the language they were made in: their mail's, until the user chooses one

Revision ID: 8e2d4c6a1b93
Revises: 5e0d7b4c9f12
Create Date: 2026-12-05 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "8e2d4c6a1b93"
down_revision: str | None = "5e0d7b4c9f12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.drop_column("locale")
