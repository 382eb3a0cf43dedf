"""Which migration the schema is at, and which this release's newest is, without Alembic:
importing it costs a server 32 MB (`serve` migrates in a child process for that reason),
and a load balancer asks /readyz every few seconds."""

import re
from functools import cache

import sqlalchemy as sa

from .paths import MIGRATIONS_DIR

_REVISION_ID = re.compile(r'"([0-9a-f]+)"')


@cache
def newest() -> str:
    """The head of the migration scripts: the revision no other names as its parent (the
    scripts Alembic writes say `revision = "…"` and `down_revision = "…"`, a tuple when two
    branches merge)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for line in script.read_text(encoding="utf-8").splitlines():
            if line.startswith("revision"):
                revisions.update(_REVISION_ID.findall(line))
            elif line.startswith("down_revision"):
                parents.update(_REVISION_ID.findall(line))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current(connection: sa.Connection) -> str | None:
    """The revision the database says its schema is at (None: not migrated at all)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
