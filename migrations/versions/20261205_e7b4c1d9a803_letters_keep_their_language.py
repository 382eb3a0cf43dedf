"""Letters keep their language, and the site's own text in the other language, to read

Revision ID: e7b4c1d9a803
Revises: 8e2d4c6a1b93
Create Date: 2026-12-05 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e7b4c1d9a803"
down_revision: str | None = "8e2d4c6a1b93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True)
        )
        batch_op.add_column(sa.Column("translation", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.drop_column("translation")
        batch_op.drop_column("language")
