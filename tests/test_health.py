"""/healthz (the process answers) and /readyz (the database answers, at this release's
schema), as a load balancer asks them."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from optout_tracker import migrate, schema_version
from optout_tracker.db import create_db_engine
from optout_tracker.main import create_app
from tests.conftest import DatabaseFactory, make_settings


def client_of(url: str) -> Iterator[TestClient]:
    app = create_app(make_settings(url))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_the_newest_migration_is_read_as_alembic_reads_it() -> None:
    assert schema_version.newest() == migrate.head_revision()


def test_a_migrated_database_is_ready(client: TestClient) -> None:
    live = client.get("/healthz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema": migrate.head_revision()}
    for answer in (live, ready):
        assert answer.headers["cache-control"] == "no-store"
    assert client.head("/readyz").status_code == 200


@pytest.fixture
def behind(databases: DatabaseFactory) -> Iterator[TestClient]:
    """An app on a database one migration short of this release's."""
    url = databases.new_url()
    engine = create_db_engine(make_settings(url))
    migrate.upgrade(engine)
    migrate.downgrade(engine, "-1")
    engine.dispose()
    yield from client_of(url)


def test_a_database_behind_the_release_is_not_ready_and_says_what_to_run(
    behind: TestClient,
) -> None:
    r = behind.get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.headers["content-type"] == "application/problem+json"
    detail = r.json()["detail"]
    assert migrate.head_revision() in detail and "optout-tracker db upgrade" in detail
    assert behind.get("/healthz").status_code == 200  # alive: no restart would help


def test_an_empty_database_and_one_that_does_not_answer_are_not_ready(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    for client in client_of(databases.new_url()):
        empty = client.get("/readyz")
        assert empty.status_code == 503 and "has no schema yet" in empty.json()["detail"]
    for client in client_of(f"sqlite:///{tmp_path / 'no such directory' / 'x.db'}"):
        gone = client.get("/readyz")
        assert gone.status_code == 503
        assert gone.json()["detail"] == "the database does not answer: OperationalError"
