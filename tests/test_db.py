"""The database layer: SQLite settings, aware timestamps, one transaction per unit of work."""

from datetime import UTC

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import AgencyKind
from optout_tracker.main import create_app
from optout_tracker.models import Agency
from tests import factories
from tests.conftest import make_settings


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(tmp_path) -> None:
    engine = create_db_engine(make_settings(f"sqlite:///{tmp_path}/pragmas.db"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_timestamps_come_back_timezone_aware_in_utc(session: Session) -> None:
    j = factories.jurisdiction(session, "06085")
    session.expire(j)
    assert j.created_at.tzinfo is not None and j.created_at.utcoffset() == UTC.utcoffset(None)


def test_a_unit_of_work_commits_or_rolls_back_as_a_whole(seeded_engine: Engine) -> None:
    name = "Test agency for the unit of work"
    with pytest.raises(RuntimeError), unit_of_work(seeded_engine) as session:
        session.add(Agency(name=name, kind=AgencyKind.other))
        session.flush()
        raise RuntimeError("fails after the write")
    with unit_of_work(seeded_engine, write=False) as session:
        assert session.scalars(sa.select(Agency).filter_by(name=name)).first() is None


def test_an_unexpected_error_is_a_problem_and_says_nothing_inside(app_settings: Settings) -> None:
    app = create_app(app_settings)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/boom")
    app.state.engine.dispose()
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 500 and "secret" not in r.text
