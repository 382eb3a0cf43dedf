"""audit_entry: indexes for the log's queries, none led by entity or actor kind

The feed's `entity IN (...) ORDER BY id DESC LIMIT 50` used the entity index and sorted the
whole log; by the primary key it stops after 50 rows. (entity_id, entity) and (actor_id,
actor_kind) replace four single-column indexes; created_at orders the audit list.

Revision ID: 1467e3c023e1
Revises: f9088029908a
Create Date: 2026-11-22 23:47:15.132887
"""

from collections.abc import Sequence

from alembic import op

revision: str = "1467e3c023e1"
down_revision: str | None = "f9088029908a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_actor_kind"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_entity"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_entity_id"))
        batch_op.create_index("ix_audit_entry_actor", ["actor_id", "actor_kind"], unique=False)
        batch_op.create_index("ix_audit_entry_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_entry_record", ["entity_id", "entity"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_record")
        batch_op.drop_index("ix_audit_entry_created_at")
        batch_op.drop_index("ix_audit_entry_actor")
        batch_op.create_index(batch_op.f("ix_audit_entry_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_entity"), ["entity"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_actor_kind"), ["actor_kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_actor_id"), ["actor_id"], unique=False)
