"""Two writers on one record: exactly one wins, the other is told (412), on both databases."""

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from optout_tracker.db import WRITER, create_db_engine, unit_of_work
from optout_tracker.enums import Scope
from optout_tracker.main import create_app
from optout_tracker.models import Vote
from optout_tracker.security import CLI
from optout_tracker.services import accounts
from tests import factories
from tests.conftest import DatabaseFactory, make_settings


@pytest.fixture
def live(databases: DatabaseFactory) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    """A real app on a database of its own: every request commits, as in production."""
    settings = make_settings(databases.new_seeded_url())
    engine = create_db_engine(settings)
    with unit_of_work(engine) as session:
        _, token = accounts.create_api_key(session, "racer", Scope.write, CLI)
        j = factories.jurisdiction(session, "06085")
        vote_id = factories.vote(session, j).id
    engine.dispose()
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}, vote_id or 0
    app.state.engine.dispose()


def test_racing_writers_with_if_match_one_wins_one_gets_412(live) -> None:
    client, headers, vote_id = live
    for round_ in range(8):
        etag = client.get(f"/api/v1/votes/{vote_id}").headers["etag"]
        start = threading.Barrier(2)
        results: list[int] = []

        def write(
            yes: int,
            start: threading.Barrier = start,
            etag: str = etag,
            results: list[int] = results,
        ) -> None:
            start.wait()
            r = client.patch(
                f"/api/v1/votes/{vote_id}", json={"yes": yes}, headers={**headers, "If-Match": etag}
            )
            results.append(r.status_code)

        threads = [threading.Thread(target=write, args=(n,)) for n in (round_ * 2, round_ * 2 + 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 412], results
    assert client.get(f"/api/v1/votes/{vote_id}").json()["version"] == 1 + 8


def test_racing_writers_without_if_match_never_get_412(live, backend: str) -> None:
    # 412 is for a false precondition, and these requests stated none. SQLite serialises the
    # two transactions, so both apply; PostgreSQL may catch the second between its read and
    # its write: that one is a 409 that says to retry, and nothing of it was written.
    client, headers, vote_id = live
    statuses: list[int] = []
    for round_ in range(8):
        start = threading.Barrier(2)

        def write(yes: int, start: threading.Barrier = start) -> None:
            start.wait()
            r = client.patch(f"/api/v1/votes/{vote_id}", json={"yes": yes}, headers=headers)
            statuses.append(r.status_code)
            if r.status_code == 409:
                assert "retry" in r.json()["detail"]

        threads = [threading.Thread(target=write, args=(n,)) for n in (round_ * 2, round_ * 2 + 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert set(statuses) <= {200, 409}, statuses
    if backend == "sqlite":
        assert set(statuses) == {200}
    applied = statuses.count(200)
    assert client.get(f"/api/v1/votes/{vote_id}").json()["version"] == 1 + applied


def test_a_write_based_on_a_stale_read_fails_instead_of_overwriting(
    databases: DatabaseFactory,
) -> None:
    engine = create_db_engine(make_settings(databases.new_seeded_url()))
    with unit_of_work(engine) as session:
        vote_id = factories.vote(session, factories.jurisdiction(session, "06085")).id
    with (
        Session(engine, expire_on_commit=False) as first,
        Session(engine, expire_on_commit=False) as second,
    ):
        theirs = second.get(Vote, vote_id)  # read in one transaction...
        second.commit()
        mine = first.get(Vote, vote_id)
        assert mine is not None and theirs is not None
        mine.yes = 3
        first.commit()
        theirs.yes = 4  # ...written in the next, after someone else's change
        with pytest.raises(StaleDataError):
            second.commit()
    with Session(engine) as session:
        vote = session.get(Vote, vote_id)
        assert vote is not None and (vote.yes, vote.version) == (3, 2)
    engine.dispose()


def test_a_write_held_up_by_a_long_transaction_gets_503_on_sqlite_and_waits_on_postgres(
    live, backend: str
) -> None:
    # A large import holds SQLite's one write lock for many seconds: the others give up after
    # the busy timeout (5 s) and are told to retry; PostgreSQL lets them wait for the row.
    client, headers, vote_id = live
    engine = client.app.state.engine
    body = {**client.get(f"/api/v1/votes/{vote_id}").json(), "body": "County Board"}
    body = {k: body[k] for k in ("jurisdiction_id", "body", "held_on", "outcome")}
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with engine.execution_options(**{WRITER: True}).connect() as conn, conn.begin():
            if backend == "postgres":
                conn.exec_driver_sql("LOCK TABLE vote IN EXCLUSIVE MODE")
            locked.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    locked.wait(timeout=10)
    if backend == "postgres":
        threading.Timer(1.0, release.set).start()
    r = lenient(client).post("/api/v1/votes", json=body, headers=headers)
    release.set()
    holder.join()
    if backend == "sqlite":
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5" and "try again" in r.json()["detail"]
        assert (
            client.get(f"/api/v1/votes?jurisdiction_id={body['jurisdiction_id']}").json()["total"]
            == 1
        )  # nothing was written
    else:
        assert r.status_code == 201, r.text


def lenient(client: TestClient) -> TestClient:
    return TestClient(client.app, raise_server_exceptions=False)
