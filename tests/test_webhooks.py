"""Webhooks: subscriptions, the outbox written with each change, and the delivering worker."""

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from optout_tracker.cli import main
from optout_tracker.config import Settings, get_settings
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.db_types import utcnow
from optout_tracker.enums import STATUS_CHANGED, AgencyKind, DeliveryState
from optout_tracker.models import Vote, Webhook, WebhookAttempt, WebhookDelivery
from optout_tracker.schemas import WEBHOOK_EVENTS, VoteCreate, VoteUpdate, WebhookCreate
from optout_tracker.security import CLI
from optout_tracker.services import outbox, votes, webhooks
from optout_tracker.webhook_worker import Outcome, Worker, sign
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, make_settings

API = "/api/v1"
MARKER = "PRIVATE-MARKER-webhooks-31c9"
SECRET = "receiver-shared-secret-0123456789"


def log_vote(session: Session, fips: str = "06085", **fields: Any) -> Vote:
    """A passed vote, through the service, as the API would log it."""
    j = factories.jurisdiction(session, fips)
    data = {"body": "Board", "held_on": date(2010, 9, 28), "outcome": "passed", **fields}
    return votes.create(session, VoteCreate(jurisdiction_id=j.id or 0, **data), CLI)


def subscribe(session: Session, events: list[str] | None = None, **fields: Any) -> Webhook:
    return factories.webhook(session, secret=SECRET, events=events or ["*"], **fields)


# Subscriptions through the API


def test_admin_creates_lists_changes_and_deletes_a_subscription(
    client: TestClient, credentials: Credentials
) -> None:
    admin = credentials.headers("admin")
    r = client.post(
        f"{API}/webhooks",
        json={"url": "https://partner.example/hook", "events": ["vote.created"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert r.headers["location"].endswith(f"/webhooks/{created['id']}")
    assert r.headers["cache-control"] == "private, no-store"

    shown = client.get(f"{API}/webhooks/{created['id']}", headers=admin).json()
    assert "secret" not in shown and created["secret"] not in json.dumps(shown)
    assert shown["events"] == ["vote.created"] and shown["active"] is True
    listed = client.get(f"{API}/webhooks", headers=admin).json()
    assert [w["id"] for w in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]

    r = client.patch(
        f"{API}/webhooks/{created['id']}",
        json={"active": False, "events": ["*"]},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["events"] == ["*"]
    assert r.json()["version"] == 2

    assert client.delete(f"{API}/webhooks/{created['id']}", headers=admin).status_code == 204
    assert client.get(f"{API}/webhooks/{created['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://partner.example/hook"}, "url"),
        ({"url": "https://partner.example/hook", "events": ["vote.made"]}, "events[0]"),
        ({"url": "https://partner.example/hook", "events": []}, "events"),
        ({"url": "https://partner.example/hook", "secret": "short"}, "secret"),
        ({"url": "https://partner.example/hook", "active": "sometimes"}, "active"),
    ],
)
def test_bad_subscriptions_are_refused_and_name_the_field(
    client: TestClient, credentials: Credentials, session: Session, body: dict[str, Any], field: str
) -> None:
    r = client.post(f"{API}/webhooks", json=body, headers=credentials.headers("admin"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_an_unknown_event_lists_the_known_ones(client: TestClient, credentials: Credentials):
    r = client.post(
        f"{API}/webhooks",
        json={"url": "https://partner.example/hook", "events": ["vote.made"]},
        headers=credentials.headers("admin"),
    )
    assert "jurisdiction.status_changed" in r.json()["errors"][0]["message"]


# The outbox: deliveries are written with the change, in its transaction


def test_every_change_of_every_entity_queues_its_event_with_public_data(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    subscribe(session)
    admin = credentials.headers("admin")
    santa_clara = factories.jurisdiction(session)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    session.commit()

    def write(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = client.request(method, f"{API}/{path}", json=body, headers=admin)
        assert r.status_code in (200, 201, 204), r.text
        return r.json() if r.content else {}

    j = write("POST", "jurisdictions", {"name": "Testville", "kind": "city", "state": "CA",
                                        "private_notes": MARKER})  # fmt: skip
    write("PATCH", f"jurisdictions/{j['id']}", {"population": 1200})
    a = write("POST", "agencies", {"name": "Sheriff", "kind": "other", "state": "CA"})
    write("PATCH", f"agencies/{a['id']}", {"notes": "answers by fax"})
    v = write("POST", "votes", {"jurisdiction_id": santa_clara.id, "body": "Board",
                                "held_on": "2010-09-28", "outcome": "passed",
                                "private_notes": MARKER})  # fmt: skip
    write("PATCH", f"votes/{v['id']}", {"yes": 5})
    letter = write(
        "POST",
        "letters",
        {
            "jurisdiction_id": santa_clara.id,
            "agency_id": sib.id,
            "sent_on": "2010-10-01",
            "purpose": "opt_out_request",
        },
    )
    write("PATCH", f"letters/{letter['id']}", {"subject": "Opting out"})
    resp = write("POST", "responses", {"jurisdiction_id": santa_clara.id, "agency_id": sib.id,
                                       "letter_id": letter["id"], "received_on": "2010-11-01",
                                       "kind": "denied"})  # fmt: skip
    write("PATCH", f"responses/{resp['id']}", {"summary": "No."})
    scan = client.post(
        f"{API}/responses/{resp['id']}/documents",
        headers=admin,
        files={"file": ("answer.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert scan.status_code == 201, scan.text
    write("DELETE", f"documents/{scan.json()['id']}")
    said = write("POST", "announcements", {"agency_id": a["id"], "announced_on": "2011-08-05",
                                           "scope": "national", "effect": "opt_out_denied",
                                           "title": "Participation is mandatory",
                                           "private_notes": MARKER})  # fmt: skip
    write("PATCH", f"announcements/{said['id']}", {"summary": "Every agreement ended."})
    for path in (f"announcements/{said['id']}", f"responses/{resp['id']}",
                 f"letters/{letter['id']}", f"votes/{v['id']}", f"agencies/{a['id']}",
                 f"jurisdictions/{j['id']}"):  # fmt: skip
        write("DELETE", path)

    found = factories.deliveries(session)
    events = Counter(d.event for d in found)
    assert set(events) == set(WEBHOOK_EVENTS), set(WEBHOOK_EVENTS) - set(events)
    for entity in ("jurisdiction", "agency", "vote", "letter", "response"):
        assert events[f"{entity}.created"] == events[f"{entity}.deleted"] == 1
    assert all(d.state is DeliveryState.pending and d.attempt_count == 0 for d in found)
    assert len({d.uuid for d in found}) == len(found)
    assert not [d.event for d in found if MARKER in d.body]

    bodies = [json.loads(d.body) for d in found]
    assert all(set(b) == {"event", "occurred_at", "data"} for b in bodies)
    vote_created = next(b for b in bodies if b["event"] == "vote.created")
    assert vote_created["data"]["id"] == v["id"] and "private_notes" not in vote_created["data"]
    # Created and updated records are shown as they stand at commit, like the API shows them.
    patched = next(b for b in bodies if b["event"] == "vote.updated")["data"]
    assert patched["yes"] == 5 and patched["version"] == 2
    deleted = next(b for b in bodies if b["event"] == "vote.deleted")["data"]
    assert deleted["id"] == v["id"] and deleted["body"] == "Board"
    changes = [b["data"] for b in bodies if b["event"] == "jurisdiction.status_changed"]
    assert [(c["old_status"], c["new_status"]) for c in changes][:3] == [
        ("no_action", "vote_passed"),
        ("vote_passed", "notified"),
        ("notified", "denied"),
    ]
    assert changes[0]["jurisdiction"]["slug"] == santa_clara.slug
    assert "private_notes" not in changes[0]["jurisdiction"]


def test_subscriptions_get_only_their_events_and_inactive_ones_get_none(
    session: Session,
) -> None:
    only_votes = subscribe(session, ["vote.created"])
    only_status = subscribe(session, ["jurisdiction.status_changed"])
    subscribe(session, ["*"], active=False)
    log_vote(session)
    session.commit()
    got = {(d.webhook_id, d.event) for d in factories.deliveries(session)}
    assert got == {(only_votes.id, "vote.created"), (only_status.id, STATUS_CHANGED)}


def test_no_change_no_event_and_a_rolled_back_change_leaves_no_delivery(session: Session) -> None:
    subscribe(session)
    vote = log_vote(session)
    session.commit()
    before = len(factories.deliveries(session))
    with pytest.raises(RuntimeError), session.begin_nested():
        votes.delete(session, vote, CLI)
        raise RuntimeError("a refused form")
    session.commit()
    assert len(factories.deliveries(session)) == before
    votes.update(session, vote, VoteUpdate(body="Board"), CLI)  # the same value
    session.commit()
    assert len(factories.deliveries(session)) == before
    votes.update(session, vote, VoteUpdate(body="Board of Supervisors"), CLI)
    session.rollback()
    session.commit()
    assert len(factories.deliveries(session)) == before


def test_the_test_event_goes_only_to_its_subscription(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    webhook, other = subscribe(session), subscribe(session)
    admin = credentials.headers("admin")
    r = client.post(f"{API}/webhooks/{webhook.id}/test", headers=admin)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["event"] == "webhook.test" and body["state"] == "pending"
    assert body["payload"]["data"]["webhook_id"] == webhook.id and body["attempts"] == []
    assert [d.webhook_id for d in factories.deliveries(session)] == [webhook.id]
    one = client.get(r.headers["location"], headers=admin)
    assert one.status_code == 200 and one.json()["uuid"] == body["uuid"]
    wrong = f"{API}/webhooks/{other.id}/deliveries/{body['id']}"
    assert client.get(wrong, headers=admin).status_code == 404
    client.patch(f"{API}/webhooks/{webhook.id}", json={"active": False}, headers=admin)
    r = client.post(f"{API}/webhooks/{webhook.id}/test", headers=admin)
    assert r.status_code == 409 and "inactive" in r.json()["detail"]


# The worker, against a real receiver, on a database whose every change commits


@dataclass
class Receiver:
    """A local HTTP endpoint that answers with the next queued status (200 when none)."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            time.sleep(state.delay)
            status = state.answer()
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"thanks" if status < 300 else b"receiver is down <b>")

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # Two workers open 16 connections at once: the default backlog of 5 would refuse
        # some, and those deliveries would be retried.
        request_queue_size = 64

    server = Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/optout"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Live:
    engine: Engine
    settings: Settings

    def worker(self, **settings: Any) -> Worker:
        return Worker(self.engine, self.settings.model_copy(update=settings))

    def subscribe(self, url: str, events: list[str] | None = None) -> int:
        with unit_of_work(self.engine) as session:
            data = WebhookCreate(url=url, secret=SECRET, events=events or ["*"])
            allow_private = self.settings.webhook_allow_private
            return webhooks.create(session, data, CLI, allow_private=allow_private).id or 0

    def log_vote(self, fips: str = "06085", **fields: Any) -> int:
        with unit_of_work(self.engine) as session:
            return log_vote(session, fips, **fields).id or 0

    def deliveries(self) -> list[WebhookDelivery]:
        with Session(self.engine) as session:
            return factories.deliveries(session)

    def attempts(self, delivery_id: int) -> list[WebhookAttempt]:
        with Session(self.engine) as session:
            stmt = sa.select(WebhookAttempt).where(col(WebhookAttempt.delivery_id) == delivery_id)
            return list(session.scalars(stmt.order_by(col(WebhookAttempt.number))))


@pytest.fixture
def live(databases: DatabaseFactory) -> Iterator[Live]:
    # The receivers listen on 127.0.0.1, as an operator's own would with this setting.
    settings = make_settings(
        databases.new_seeded_url(), webhook_backoff_seconds=0, webhook_allow_private=True
    )
    engine = create_db_engine(settings)
    yield Live(engine, settings)
    engine.dispose()


def test_a_receiver_gets_signed_deliveries_it_can_verify(live: Live, receiver: Receiver) -> None:
    live.subscribe(receiver.url)
    live.log_vote(private_notes=MARKER)

    tally = live.worker().run(once=True)

    assert (tally.delivered, tally.retrying, tally.failed) == (2, 0, 0)
    by_uuid = {d.uuid: d for d in live.deliveries()}
    assert len(receiver.got) == 2
    for headers, raw in receiver.got:
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-optout-signature"], expected)
        assert headers["content-type"] == "application/json"
        delivery = by_uuid[headers["x-optout-delivery"]]
        body = json.loads(raw)
        assert body["event"] == headers["x-optout-event"] == delivery.event
        assert set(body) == {"event", "occurred_at", "data"}
        assert MARKER.encode() not in raw
        assert delivery.state is DeliveryState.delivered and delivery.delivered_at is not None
        [attempt] = live.attempts(delivery.id or 0)
        assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, None)
        assert attempt.response_excerpt is None  # never kept from a private address
    assert {json.loads(raw)["event"] for _, raw in receiver.got} == {"vote.created", STATUS_CHANGED}
    # Nothing is left to send: a second pass posts nothing.
    assert live.worker().run(once=True).delivered == 0 and len(receiver.got) == 2


def test_a_failing_receiver_gets_retries_with_the_same_delivery_id(
    live: Live, receiver: Receiver
) -> None:
    live.subscribe(receiver.url, ["vote.created"])
    live.log_vote()
    receiver.statuses = [500, 503]

    tally = live.worker(webhook_max_attempts=5).run(once=True)

    assert (tally.delivered, tally.retrying) == (1, 2)
    [delivery] = live.deliveries()
    assert delivery.state is DeliveryState.delivered and delivery.attempt_count == 3
    assert [a.status_code for a in live.attempts(delivery.id or 0)] == [500, 503, 200]
    assert live.attempts(delivery.id or 0)[0].error == "HTTP 500"
    assert {h["x-optout-delivery"] for h, _ in receiver.got} == {delivery.uuid}
    assert len({raw for _, raw in receiver.got}) == 1  # the very same signed bytes each time


def test_a_delivery_is_given_up_after_the_last_attempt(live: Live, receiver: Receiver) -> None:
    live.subscribe(receiver.url, ["vote.created"])
    live.log_vote()
    receiver.statuses = [500] * 10

    tally = live.worker(webhook_max_attempts=3).run(once=True)

    assert (tally.delivered, tally.retrying, tally.failed) == (0, 2, 1)
    [delivery] = live.deliveries()
    assert delivery.state is DeliveryState.failed and delivery.next_attempt_at is None
    assert len(live.attempts(delivery.id or 0)) == 3 == len(receiver.got)
    assert live.worker().run(once=True).failed == 0 and len(receiver.got) == 3


def test_retries_wait_longer_each_time_and_an_unreachable_receiver_is_recorded(
    live: Live, receiver: Receiver
) -> None:
    live.subscribe("http://127.0.0.1:9/nobody-listens", ["vote.created"])
    live.log_vote()
    worker = live.worker(webhook_backoff_seconds=30)

    started = utcnow()
    assert worker.run(once=True).retrying == 1  # the retry is not due yet: once returns

    [delivery] = live.deliveries()
    assert delivery.state is DeliveryState.pending and delivery.attempt_count == 1
    assert delivery.next_attempt_at is not None
    wait = delivery.next_attempt_at - started
    assert timedelta(seconds=29) < wait < timedelta(seconds=35)
    [attempt] = live.attempts(delivery.id or 0)
    assert attempt.status_code is None and attempt.error and "Connect" in attempt.error
    waits = [worker.retry_at(started, n) - started for n in (1, 2, 3, 20)]
    assert waits[:3] == [timedelta(seconds=s) for s in (30, 60, 120)]
    assert waits[3] == timedelta(hours=6)  # capped


def test_two_workers_deliver_each_delivery_once(live: Live, receiver: Receiver) -> None:
    webhook_id = live.subscribe(receiver.url)
    with unit_of_work(live.engine) as session:
        payload = outbox.body("webhook.test", utcnow(), {"n": 0})
        rows = [outbox.delivery_row(webhook_id, "webhook.test", payload) for _ in range(120)]
        session.execute(sa.insert(WebhookDelivery), rows)
    receiver.delay = 0.05  # each batch takes a while, so the two workers overlap
    start = threading.Barrier(2)
    tallies = []

    def work() -> None:
        worker = live.worker()
        start.wait()
        tallies.append(worker.run(once=True))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    sent = Counter(h["x-optout-delivery"] for h, _ in receiver.got)
    assert len(sent) == 120 and set(sent.values()) == {1}, sent.most_common(3)
    assert sum(t.delivered for t in tallies) == 120
    assert all(t.delivered > 0 for t in tallies), "both workers should have taken a share"
    assert {(d.state, d.attempt_count) for d in live.deliveries()} == {(DeliveryState.delivered, 1)}


def test_a_dead_workers_lease_runs_out_and_its_late_outcome_changes_only_its_attempt(
    live: Live, receiver: Receiver
) -> None:
    live.subscribe(receiver.url, ["vote.created"])
    live.log_vote()
    dead = live.worker()
    [claimed] = dead.claim()
    assert live.worker().claim() == []  # leased
    with unit_of_work(live.engine) as session:
        session.execute(sa.update(WebhookDelivery).values(locked_until=utcnow() - timedelta(1)))

    assert live.worker().run(once=True).delivered == 1
    assert dead.finish(claimed, Outcome(500, "HTTP 500", None, 1)) is None
    [delivery] = live.deliveries()
    assert delivery.state is DeliveryState.delivered and delivery.attempt_count == 2
    late, delivered = live.attempts(delivery.id or 0)
    assert (late.status_code, late.error) == (500, "HTTP 500")  # the slow worker's, as it ended
    assert (delivered.status_code, delivered.error) == (200, None)


def test_a_failure_to_record_one_outcome_does_not_stop_the_worker(
    live: Live, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    live.subscribe(receiver.url, ["vote.created"])
    live.log_vote()
    live.log_vote("06001")
    worker = live.worker()
    record = worker.finish
    failed: list[int] = []

    def finish(claimed: Any, outcome: Outcome) -> DeliveryState | None:
        if not failed:  # the database refuses the first outcome
            failed.append(claimed.id)
            raise sa.exc.OperationalError("UPDATE webhook_attempt", {}, OSError("disk I/O error"))
        return record(claimed, outcome)

    worker.finish = finish  # type: ignore[method-assign]
    assert worker.run(once=True).delivered == 1  # the other delivery still went out
    assert "recording a webhook attempt failed" in caplog.text
    states = {d.id: d.state for d in live.deliveries()}
    assert states[failed[0]] is DeliveryState.pending  # sent again once its lease runs out


def test_deleting_a_subscription_deletes_its_deliveries(live: Live, receiver: Receiver) -> None:
    webhook_id = live.subscribe(receiver.url)
    live.log_vote()
    live.worker(webhook_max_attempts=1).run(once=True)
    with unit_of_work(live.engine) as session:
        webhooks.delete(session, webhooks.get(session, webhook_id), CLI)
    assert live.deliveries() == []
    with Session(live.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"event":"webhook.test"}'
    assert sign("key", body) == "sha256=" + hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert sign("key", body) != sign("other key", body)


def test_the_worker_command_delivers_what_is_due_and_says_so(
    live: Live, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    live.subscribe(receiver.url, ["vote.created"])
    live.log_vote()
    monkeypatch.setenv("OPTOUT_DATABASE_URL", live.settings.database_url)
    monkeypatch.setenv("OPTOUT_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["worker", "--once"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "worker: 1 delivered, 0 to retry, 0 failed" in result.output
    assert len(receiver.got) == 1


def test_finished_deliveries_are_pruned_after_the_days_kept(live: Live, receiver: Receiver) -> None:
    live.subscribe(receiver.url, ["vote.created"])
    for fips in ("06085", "06001", "06075"):
        live.log_vote(fips)
    receiver.statuses = [500, 500, 500]
    live.worker(webhook_max_attempts=1).run(once=True)  # three failed, with their attempts
    month_ago = utcnow() - timedelta(days=31)
    done, failed, waiting = (d.id for d in live.deliveries())
    with unit_of_work(live.engine) as session:
        for delivery_id, state in (
            (done, DeliveryState.delivered),
            (waiting, DeliveryState.pending),
        ):
            session.execute(
                sa.update(WebhookDelivery)
                .where(col(WebhookDelivery.id) == delivery_id)
                .values(state=state)
            )
        session.execute(sa.update(WebhookDelivery).values(updated_at=month_ago))

    assert live.worker(webhook_keep_days=60).prune() == 0
    assert live.worker().prune() == 2

    [kept] = live.deliveries()
    assert kept.id == waiting and kept.state is DeliveryState.pending
    with Session(live.engine) as session:
        attempts = session.scalars(sa.select(col(WebhookAttempt.delivery_id))).all()
        assert set(attempts) == {waiting}  # the others' went with them
