"""Webhook deliveries keep their message id (Standard Webhooks' webhook-id)

A delivery is sent with `webhook-id`, the id of the event it carries: the same on its
retries and on its redeliveries, each of which is a delivery of its own with its own uuid.
A delivery made before redeliveries existed is its event's first, so its message id is its
uuid.

Revision ID: a152cbfee39e
Revises: 6c1e9a0f3b27
Create Date: 2026-12-05 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a152cbfee39e"
down_revision: str | None = "6c1e9a0f3b27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
    op.execute("UPDATE webhook_delivery SET message_id = uuid")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.alter_column(
            "message_id",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=36),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_column("message_id")
