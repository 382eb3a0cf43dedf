"""Indexes that every imported row pays for and no query needs: vote.topic, audit_entry.updated_at

An import of 100,000 votes writes each of them and its audit entry into every index of the two
tables. `topic` has a handful of values, nearly all `opt_out`: the votes list filtered by it
read the whole topic through the index, then sorted it, slower than walking held_on's index
backwards; no other query filters on it alone (the latest passed vote goes by jurisdiction). An
audit entry is never updated, so its updated_at is its created_at: the audit list's
`updated_since` and its sort by updated_at use created_at's index (api/audit.py).

Revision ID: 4b7e2f1c9a35
Revises: 5e0c7d2a91f4
Create Date: 2026-12-04 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4b7e2f1c9a35"
down_revision: str | None = "5e0c7d2a91f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_topic"))
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_updated_at"))


def downgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_updated_at"), ["updated_at"], unique=False)
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_topic"), ["topic"], unique=False)
