"""Alembic driven from code, so `optout-tracker db ...` needs no alembic.ini."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .paths import MIGRATIONS_DIR


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def _with_connection(engine: Engine, action: str, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _with_connection(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _with_connection(engine, "downgrade", revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
