"""Engine and the one-unit-of-work-per-request session."""

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from .config import Settings
from .errors import ConfigError

WRITER = "optout_writer"  # execution option: this transaction will write


SETTINGS = "optout_settings"  # execution option: the settings the engine was made from


def settings_of(session: Session) -> Settings | None:
    """The settings of the engine this session works in (None: not made by create_db_engine):
    what a service writing in it reads (whether mail is sent, the links it holds)."""
    found: Settings | None = session.get_bind().get_execution_options().get(SETTINGS)
    return found


def create_db_engine(settings: Settings) -> Engine:
    """The engine of `settings.database_url`, carrying `settings` to every session of it."""
    return _create_engine(settings).execution_options(**{SETTINGS: settings})


def _create_engine(settings: Settings) -> Engine:
    try:
        url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise ConfigError(
            f"OPTOUT_DATABASE_URL is not a database URL: {settings.database_url!r} "
            "(expected sqlite:///path.db or postgresql+psycopg://user@host/dbname)"
        ) from exc
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
    }
    if url.get_backend_name() == "sqlite":
        in_memory = not url.database or url.database == ":memory:"
        return _sqlite_engine(url, settings.sql_echo, {} if in_memory else pool)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"unsupported database {url.get_backend_name()!r}: use SQLite or PostgreSQL"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url, echo=settings.sql_echo, pool_pre_ping=True, **pool)


def _sqlite_engine(url: sa.URL, echo: bool, pool: dict[str, Any]) -> Engine:
    engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **pool)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN past our first write; take it
        # over, so that writers can BEGIN IMMEDIATE below.
        dbapi_conn.isolation_level = None
        # SQLite's lower() folds ASCII only; ILIKE searches need "DOÑA" to find "Doña Ana".
        dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
        cursor = dbapi_conn.cursor()
        if url.database and url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # A writer takes the write lock at BEGIN: upgrading a reading transaction later fails
        # at once ("database is locked") when another writer committed in between.
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITER) else "BEGIN"
        )

    return engine


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises.

    `write=False` for requests that only read: on SQLite they do not wait for the write lock.
    """
    bind = engine.execution_options(**{WRITER: True}) if write else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class UnitsOfWork(Protocol):
    """Opens units of work on the app's database, for the rare service that needs several."""

    def __call__(self, *, write: bool = True) -> AbstractContextManager[Session]: ...


def insert_or(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that may say what to do ON CONFLICT: both databases can, and SQLAlchemy
    spells it per dialect."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


@contextmanager
def page_cache(session: Session, mib: int) -> Iterator[None]:
    """On SQLite, a page cache of `mib` MiB for the session's connection while the block runs
    (then its size before): in SQLite's default 2 MiB, a bulk write spills pages to the WAL
    before the commit and reads back those its indexes need again. Nothing on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = {-1024 * int(mib)}")  # negative: KiB
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def in_chunks(ids: Iterable[int], size: int = 500) -> Iterator[list[int]]:
    """Ids in sorted lists for `IN (...)`, each well under SQLite's bound-parameter limit."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
