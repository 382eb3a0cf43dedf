"""Engine and the one-unit-of-work-per-request session."""

import sqlite3
import threading
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
HOLDS_WRITE_TURN = "optout_holds_write_turn"  # connection info: this one's turn to write
# How long a writer on SQLite waits for the write lock, first for its turn among this
# process's writers, then for other processes' (busy_timeout), before it answers 503.
BUSY_TIMEOUT_SECONDS = 5
# SQLite's page cache per connection, in KiB (its default: 2,000). Each pooled connection
# fills its own: at 2,000 a server held some 15 MB more after bench/api.py's load test, for
# pages the OS caches anyway. Public reads are mostly answered from the rendered-page cache,
# and an import raises its connection's for as long as it writes (page_cache).
SQLITE_CACHE_KIB = 512


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
    # SQLite lets one transaction write at a time, and a writer that finds the lock taken
    # polls for it, sleeping up to 100 ms between tries: with a few writers waiting, the lock
    # sat free while they slept, and they gave up after the busy timeout although each
    # write holds it for milliseconds (a load test of 10% writes got 503 for a quarter of
    # them). This process's writers take turns on a lock of ours instead, which wakes the
    # next one the moment the last one ends; busy_timeout is left for other processes (a
    # CLI import beside the server).
    write_turn = threading.Lock()

    def end_turn(info: dict[Any, Any]) -> None:
        if info.pop(HOLDS_WRITE_TURN, False):
            write_turn.release()

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
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # negative: KiB
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # A writer takes the write lock at BEGIN: upgrading a reading transaction later fails
        # at once ("database is locked") when another writer committed in between.
        if not conn.get_execution_options().get(WRITER):
            conn.exec_driver_sql("BEGIN")
            return
        if not write_turn.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            busy = sqlite3.OperationalError("database is locked")  # as SQLite says it
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, busy)
        conn.info[HOLDS_WRITE_TURN] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            end_turn(conn.info)
            raise

    # The turn ends with the transaction; should a connection leave without ending it
    # (invalidated, say), the pool's checkin ends it then.
    def end_transaction(conn: sa.Connection) -> None:
        if not conn.invalidated:  # else its info is gone with it, and the turn ended then
            end_turn(conn.info)

    for event in ("commit", "rollback"):
        sa.event.listen(engine, event, end_transaction)
    sa.event.listen(engine, "checkin", lambda _dbapi, record: end_turn(record.info))
    sa.event.listen(engine, "invalidate", lambda _dbapi, record, _exc: end_turn(record.info))

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
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -SQLITE_CACHE_KIB)}")


def in_chunks(ids: Iterable[int], size: int = 500) -> Iterator[list[int]]:
    """Ids in sorted lists for `IN (...)`, each well under SQLite's bound-parameter limit."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
