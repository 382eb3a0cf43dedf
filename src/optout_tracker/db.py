"""Engine and the one-unit-of-work-per-request session."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session

from .config import Settings
from .errors import ConfigError


def create_db_engine(settings: Settings) -> Engine:
    try:
        url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise ConfigError(
            f"OPTOUT_DATABASE_URL is not a database URL: {settings.database_url!r} "
            "(expected sqlite:///path.db or postgresql+psycopg://user@host/dbname)"
        ) from exc
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings.sql_echo)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"unsupported database {url.get_backend_name()!r}: use SQLite or PostgreSQL"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url, echo=settings.sql_echo, pool_pre_ping=True)


def _sqlite_engine(url: sa.URL, echo: bool) -> Engine:
    engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN past our first write and
        # make the busy timeout useless; take it over and begin eagerly below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if url.database and url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
