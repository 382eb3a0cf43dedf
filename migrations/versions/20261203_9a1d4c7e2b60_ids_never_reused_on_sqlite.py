"""ids never reused on SQLite: AUTOINCREMENT on every table with an id

Without it SQLite hands out the largest id again once that row is deleted, so a partner
syncing by id could take a new record for a deleted one (and an ETag held for the old one
could answer 304 for the new). Each table is rebuilt (batch mode: copy, drop, rename) with
its rows and their ids as they were; SQLite then remembers the largest id in
sqlite_sequence. PostgreSQL's sequences never go back, so nothing changes there.

Revision ID: 9a1d4c7e2b60
Revises: 3f6c2a9d1e47
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9a1d4c7e2b60"
down_revision: str | None = "3f6c2a9d1e47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose primary key is `id`, at this revision (parents before children).
TABLES = (
    "agency", "audit_entry", "dataset_record", "idempotency_key", "jurisdiction",
    "login_throttle", "user", "webhook", "announcement", "api_key", "letter", "user_session",
    "vote", "webhook_delivery", "response", "webhook_attempt",
)  # fmt: skip


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
