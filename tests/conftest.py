"""Test databases: every database test runs on SQLite and on PostgreSQL.

Each test run (and each xdist worker) creates its own databases, builds them with the
migrations, loads the reference data once, and runs every test in a transaction that is
rolled back. Tests marked `history` run in a second such database that holds the 2008–2014
history too, loaded once per run rather than once per test. PostgreSQL tests skip on a
laptop without a server, but fail in CI (CI=true).
"""

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from optout_tracker import migrate
from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine
from optout_tracker.history import load_history
from optout_tracker.http import deps
from optout_tracker.main import create_app
from optout_tracker.security import CLI
from optout_tracker.seed import seed
from optout_tracker.services import status_projection

POSTGRES_ADMIN_URL = os.environ.get(
    "OPTOUT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ("sqlite", "postgres")


def _postgres_admin() -> Engine:
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}"
        if IN_CI:
            pytest.fail(message + " (CI must run the PostgreSQL tests)")
        pytest.skip(message)
    return engine


class DatabaseFactory:
    """Creates throwaway databases on one backend and removes them at the end of the run."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend, self.tmp = backend, tmp
        self.created: list[str] = []
        self.admin = _postgres_admin() if backend == "postgres" else None
        self._seeded: str | None = None  # the database new_seeded_url copies

    def new_url(self, template: str | None = None) -> str:
        """A new empty database, or a copy of the one at `template` (a URL of this factory's;
        nothing may be connected to it)."""
        name = f"optout_test_{uuid.uuid4().hex[:12]}"
        if self.admin is None:
            url = f"sqlite:///{self.tmp / name}.db"
            if template is not None:
                copy_sqlite(template, url)
            return url
        source = sa.make_url(template).database if template else None
        with self.admin.connect() as conn:
            if source is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            else:
                # A connection some app of an earlier test left in its pool would stop the
                # copy; the pools ping before use, so ending it costs nothing.
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (source,),
                )
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        self.created.append(name)
        return sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)

    def new_seeded_url(self) -> str:
        """A new database of the test's own, migrated to head, with the reference data: a
        copy of one built at the first call (migrating and seeding each took 0.5 s on SQLite
        and 1.1 s on PostgreSQL; a copy takes 0.01-0.2 s)."""
        if self._seeded is None:
            url = self.new_url()
            engine = create_db_engine(make_settings(url))
            try:
                migrate.upgrade(engine)
                with Session(engine) as session:
                    seed(session)
                    session.commit()
            finally:
                engine.dispose()  # PostgreSQL copies a template only while no one is connected
            self._seeded = url
        return self.new_url(template=self._seeded)

    def drop_all(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def copy_sqlite(source_url: str, target_url: str) -> None:
    """Copy a SQLite database with SQLite's backup API (which reads the WAL too)."""
    source = sqlite3.connect(sa.make_url(source_url).database or "")
    target = sqlite3.connect(sa.make_url(target_url).database or "")
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(backend))
    yield factory
    factory.drop_all()


def make_settings(url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=url,
        secret_key="test-secret-not-for-production-0123456789",
        **overrides,
    )


def _shared_engine(databases: DatabaseFactory, *, history: bool) -> Engine:
    """A database migrated to head with the reference data (and `history`) loaded."""
    engine = create_db_engine(make_settings(databases.new_url()))
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed(session)
        if history:
            load_history(session, 30)
        session.commit()
    # The app's first read of the day derives the due statuses in a transaction of its own
    # (keep_current); in a test that read waits on SQLite for the test's own open write
    # transaction, 5 s of busy timeout each time, and fails. Do it now, before any test's
    # transaction, as a server's first request would: the process then counts as checked
    # today (tests of keep_current set it unchecked themselves).
    with Session(engine) as session:
        status_projection.refresh_due(session)
        session.commit()
    status_projection.keep_current(engine)
    return engine


@pytest.fixture(scope="session")
def seeded_engine(databases: DatabaseFactory) -> Iterator[Engine]:
    """A database with the reference data loaded, shared by the run."""
    engine = _shared_engine(databases, history=False)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def history_engine(databases: DatabaseFactory) -> Iterator[Engine]:
    """A database with the reference data and the 2008–2014 history loaded, shared by the
    tests marked `history` (those that read the history; tests of loading it load it
    themselves)."""
    engine = _shared_engine(databases, history=True)
    yield engine
    engine.dispose()


def copy_of_history(databases: DatabaseFactory, history_engine: Engine) -> str:
    """The URL of a new database of the test's own, a copy of the shared history database
    (loading the history took 3-8 s per database on a quiet machine, a copy under 0.3 s).
    Between tests no connection to it is checked out: closing the pooled ones lets
    PostgreSQL copy it."""
    history_engine.dispose()
    return databases.new_url(template=history_engine.url.render_as_string(hide_password=False))


@pytest.fixture
def test_engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Engine:
    """The shared database this test works in (`databases` makes the test run on each
    backend: a fixture asked for by name below cannot)."""
    marked = request.node.get_closest_marker("history") is not None
    engine: Engine = request.getfixturevalue("history_engine" if marked else "seeded_engine")
    return engine


@pytest.fixture
def session(test_engine: Engine) -> Iterator[Session]:
    """A session whose every commit lands in a savepoint of a transaction rolled back after."""
    with test_engine.connect() as connection:
        outer = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as s:
            yield s
        outer.rollback()


@pytest.fixture
def app_settings(test_engine: Engine) -> Settings:
    return make_settings(test_engine.url.render_as_string(hide_password=False))


def use_test_session(app: FastAPI, session: Session) -> None:
    """Every unit of work of `app`'s requests happens in the test's session."""

    @contextmanager
    def unit(*, write: bool = True) -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def test_session() -> Iterator[Session]:
        with unit() as s:
            yield s

    app.dependency_overrides[deps.get_session] = test_session
    app.state.units = unit


@pytest.fixture
def client(session: Session, app_settings: Settings) -> Iterator[TestClient]:
    app = create_app(app_settings)
    use_test_session(app, session)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(session: Session) -> Callable[[], Any]:
    """`with count_queries() as q: ...; assert q.count <= 2`: guards against N+1 queries."""
    connection = session.connection()

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def record(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                counter.statements.append(statement)

        sa.event.listen(connection, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            sa.event.remove(connection, "before_cursor_execute", record)

    return counting


class Credentials:
    """API keys of each scope and users of each role, made in the test's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._tokens: dict[str, str] = {}

    def token(self, scope: str) -> str:
        if scope not in self._tokens:
            from optout_tracker.enums import Scope
            from optout_tracker.services import accounts

            _, self._tokens[scope] = accounts.create_api_key(
                self.session, f"{scope} key for tests", Scope(scope), CLI
            )
            self.session.commit()
        return self._tokens[scope]

    def headers(self, scope: str | None) -> dict[str, str]:
        """Authorization headers for an API key of this scope; None for an anonymous caller."""
        return {} if scope is None else {"Authorization": f"Bearer {self.token(scope)}"}

    def user(self, role: str, email: str | None = None, password: str = "correct horse battery"):
        from optout_tracker.enums import Role
        from optout_tracker.services import accounts

        user = accounts.create_user(
            self.session, email or f"{role}@example.org", Role(role), password, CLI
        )
        self.session.commit()
        return user


@pytest.fixture
def credentials(session: Session) -> Credentials:
    return Credentials(session)


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """The served /openapi.json (the document needs no database)."""
    app = create_app(make_settings("sqlite://"))
    document: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    app.state.engine.dispose()
    return document
