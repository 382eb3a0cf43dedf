"""Idempotency-Key on every POST it is documented for: imports, webhooks, API keys; and
concurrent requests with one key answer alike on both databases (one write, one replay)."""

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, col

from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.db_types import utcnow
from optout_tracker.enums import Scope
from optout_tracker.main import create_app
from optout_tracker.models import ApiKey, IdempotencyKey, Vote, Webhook, WebhookDelivery
from optout_tracker.security import CLI
from optout_tracker.services import accounts, idempotency
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, make_settings
from tests.live import seeded_database

API = "/api/v1"
VOTES = (
    "jurisdiction_fips,body,held_on,outcome,yes,no\r\n"
    "06013,Board of Supervisors,2010-10-26,passed,3,2\r\n"
    "06041,Board of Supervisors,2010-11-16,failed,2,3\r\n"
)
HOOK = {"url": "https://93.184.215.14/hook", "events": ["vote.created"]}  # a public address


def count(session: Session, model: type[SQLModel]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def import_votes(client: TestClient, headers: dict[str, str], text: str = VOTES, **params: Any):
    return client.post(
        f"{API}/import/votes", params=params, content=text.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )  # fmt: skip


def test_a_retried_import_writes_once_and_replays_the_report(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    headers = {**credentials.headers("write"), "Idempotency-Key": "votes-2010-batch-1"}
    before = count(session, Vote)
    first = import_votes(client, headers)
    again = import_votes(client, headers)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert (first.json()["rows"], first.json()["created"], first.json()["dry_run"]) == (2, 2, False)
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert count(session, Vote) == before + 2
    # The key covers the file and dry_run: another file, or a dry run, is another request.
    other = VOTES.replace("3,2", "4,1")
    assert import_votes(client, headers, other).status_code == 422
    assert import_votes(client, headers, dry_run="true").status_code == 422
    assert count(session, Vote) == before + 2


def test_a_key_is_remembered_for_a_week_then_free_again(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    headers = {**credentials.headers("write"), "Idempotency-Key": "votes-2010-batch-1"}
    before = count(session, Vote)
    assert import_votes(client, headers).status_code == 200
    assert idempotency.forget_old(session) == 0  # a retry within the week is replayed
    assert import_votes(client, headers).headers["idempotent-replayed"] == "true"
    session.execute(
        sa.update(IdempotencyKey).values(
            created_at=utcnow() - idempotency.KEPT - timedelta(hours=1)
        )
    )
    assert idempotency.forget_old(session) == 1  # the worker does this hourly
    assert count(session, IdempotencyKey) == 0
    again = import_votes(client, headers)  # the key names a new request now
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    assert count(session, Vote) == before + 4


def test_a_failed_import_does_not_use_up_its_key(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    headers = {**credentials.headers("write"), "Idempotency-Key": "votes-2010-batch-2"}
    bad = VOTES.replace("2010-10-26", "2010-13-26")
    assert import_votes(client, headers, bad).status_code == 422
    r = import_votes(client, headers)
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers


def test_a_retried_webhook_subscription_creates_one_and_replays_the_answer(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    headers = {**credentials.headers("admin"), "Idempotency-Key": "subscribe-partner"}
    first = client.post(f"{API}/webhooks", json=HOOK, headers=headers)
    again = client.post(f"{API}/webhooks", json=HOOK, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["cache-control"] == first.headers["cache-control"] == "private, no-store"
    assert count(session, Webhook) == 1
    test = f"{API}/webhooks/{first.json()['id']}/test"
    sent = client.post(test, headers={**headers, "Idempotency-Key": "test-partner"})
    resent = client.post(test, headers={**headers, "Idempotency-Key": "test-partner"})
    assert sent.status_code == resent.status_code == 202 and resent.json() == sent.json()
    assert resent.headers["idempotent-replayed"] == "true"
    assert count(session, WebhookDelivery) == 1


def test_a_retried_api_key_creation_makes_no_second_key_and_keeps_no_token(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    headers = {**credentials.headers("admin"), "Idempotency-Key": "key-for-the-partner"}
    keys = count(session, ApiKey)
    body = {"name": "partner", "scope": "read"}
    first = client.post(f"{API}/api-keys", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post(f"{API}/api-keys", json=body, headers=headers)
    assert again.status_code == 409 and count(session, ApiKey) == keys + 1
    assert f"API key {first.json()['id']} ('partner')" in again.json()["detail"]
    stored = session.scalars(sa.select(col(IdempotencyKey.response_body))).all()
    assert stored and not any(first.json()["token"] in s for s in stored)
    openapi = client.get("/openapi.json").json()["paths"][f"{API}/api-keys"]["post"]
    documented = {p["name"]: p["description"] for p in openapi["parameters"]}
    assert "409" in documented["Idempotency-Key"]


# Concurrent retries: the real app, its own database, every request committed.


@pytest.fixture(scope="module")
def live(databases: DatabaseFactory) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    url = seeded_database(databases)
    engine = create_db_engine(make_settings(url))
    with unit_of_work(engine) as session:
        _, token = accounts.create_api_key(session, "racer", Scope.write, CLI)
        jurisdiction_id = factories.jurisdiction(session, "06085").id or 0
    engine.dispose()
    app = create_app(make_settings(url))
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}, jurisdiction_id
    app.state.engine.dispose()


def race(send: Any) -> list[Any]:
    """`send()` from two threads at the same moment; their answers."""
    start = threading.Barrier(2)
    answers: list[Any] = []

    def run() -> None:
        start.wait()
        answers.append(send())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_concurrent_retries_with_one_key_write_once_and_replay_on_both_databases(live) -> None:
    client, write, jurisdiction_id = live
    vote = {"jurisdiction_id": jurisdiction_id, "body": "Board", "held_on": "2010-09-28",
            "outcome": "passed"}  # fmt: skip
    engine = client.app.state.engine
    for round_ in range(6):
        headers = {**write, "Idempotency-Key": f"vote-race-{round_}"}
        answers = race(lambda h=headers: client.post(f"{API}/votes", json=vote, headers=h))
        assert sorted(r.status_code for r in answers) == [201, 201], [r.text for r in answers]
        assert sorted(r.headers.get("idempotent-replayed", "") for r in answers) == ["", "true"]
        assert answers[0].json() == answers[1].json()
    for round_ in range(2):
        headers = {**write, "Idempotency-Key": f"import-race-{round_}"}
        answers = race(lambda h=headers: import_votes(client, h))
        assert sorted(r.status_code for r in answers) == [200, 200], [r.text for r in answers]
        assert sorted(r.headers.get("idempotent-replayed", "") for r in answers) == ["", "true"]
    with Session(engine) as session:
        assert count(session, Vote) == 6 + 2 * 2
