"""/metrics: Prometheus text for an admin key only; request counts and latencies by route
template (never the URL), every request counted once, cached or not; the outboxes' depths
as the database has them; neither documented nor cached."""

from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, col

from optout_tracker.db_types import utcnow
from optout_tracker.enums import DeliveryState
from optout_tracker.models import MailMessage, WebhookDelivery
from tests import factories
from tests.conftest import Credentials

PROMETHEUS_ACCEPT = "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"
OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
REQUESTS = "optout_http_requests_total"
LATENCIES = "optout_http_request_duration_seconds_count"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, credentials: Credentials) -> Samples:
    r = client.get(
        "/metrics", headers={**credentials.headers("admin"), "Accept": PROMETHEUS_ACCEPT}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.parametrize("scope, status", [(None, 401), ("read", 403), ("write", 403)])
def test_only_an_admin_key_may_read_the_metrics(
    client: TestClient, credentials: Credentials, scope: str | None, status: int
) -> None:
    r = client.get("/metrics", headers={**credentials.headers(scope), "Accept": PROMETHEUS_ACCEPT})
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert "scope admin" in r.json()["detail"]
    assert "optout_" not in r.text


def test_a_wrong_key_is_refused(client: TestClient) -> None:
    r = client.get("/metrics", headers={"Authorization": "Bearer optk_not_a_key"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_counters_and_latencies_move_by_route_template_method_and_status(
    client: TestClient, credentials: Credentials
) -> None:
    before = scrape(client, credentials)
    for vote_id in (999_998, 999_999):
        assert client.get(f"/api/v1/votes/{vote_id}").status_code == 404
    assert client.post("/api/v1/votes/999999", json={}).status_code == 405
    for _ in range(2):  # the second from the public cache, which the app never sees
        assert client.get("/api/v1/status/summary").status_code == 200
    assert client.head("/api/v1/status/summary").status_code == 200
    assert client.get("/no/such/page/1234").status_code == 404
    after = scrape(client, credentials)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    vote = "/api/v1/votes/{vote_id}"
    assert moved(REQUESTS, route=vote, method="GET", status="404") == 2
    assert moved(LATENCIES, route=vote, method="GET") == 2
    assert moved(REQUESTS, route=vote, method="POST", status="405") == 1
    summary = "/api/v1/status/summary"
    assert moved(REQUESTS, route=summary, method="GET", status="200") == 2
    assert moved(REQUESTS, route=summary, method="HEAD", status="200") == 1
    assert moved(REQUESTS, route="unmatched", method="GET", status="404") == 1
    # The first scrape is counted by the second.
    assert moved(REQUESTS, route="/metrics", method="GET", status="200") == 1
    # Label values are templates: no id or unknown path becomes one.
    routes = {dict(labels)["route"] for name, labels in after if name == REQUESTS}
    assert not any("999" in route or "1234" in route for route in routes), routes
    assert value(after, "process_resident_memory_bytes") > 0


def test_the_outbox_gauges_are_the_database_s_at_the_scrape(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    hook = factories.webhook(session)
    now = utcnow()

    def delivery(state: DeliveryState, due: timedelta) -> WebhookDelivery:
        sent_as = str(uuid4())
        return WebhookDelivery(
            webhook_id=hook.id or 0, uuid=sent_as, message_id=sent_as, event="vote.created",
            body="{}", state=state, next_attempt_at=now + due,
        )  # fmt: skip

    def mail(state: DeliveryState, due: timedelta) -> MailMessage:
        return MailMessage(
            key=f"test:{uuid4()}", to_address="organizer@example.org", subject="An alert",
            text_body="…", html_body="<p>…</p>", state=state, next_attempt_at=now + due,
        )  # fmt: skip

    session.add_all(
        [
            delivery(DeliveryState.pending, -timedelta(minutes=10)),  # due, not sent: late
            delivery(DeliveryState.pending, timedelta(hours=1)),  # waiting for its retry
            delivery(DeliveryState.delivered, -timedelta(days=1)),
            delivery(DeliveryState.failed, -timedelta(days=2)),
            mail(DeliveryState.pending, timedelta(minutes=5)),
            mail(DeliveryState.failed, -timedelta(days=1)),
        ]
    )
    session.commit()
    samples = scrape(client, credentials)
    scraped = utcnow()

    for outbox, table in (("webhook", WebhookDelivery), ("mail", MailMessage)):
        pending, oldest = session.execute(
            sa.select(sa.func.count(), sa.func.min(col(table.next_attempt_at))).where(
                col(table.state) == DeliveryState.pending
            )
        ).one()
        assert value(samples, "optout_outbox_pending", outbox=outbox) == pending
        waited = max((scraped - oldest).total_seconds(), 0.0)
        gauge = value(samples, "optout_outbox_oldest_due_seconds", outbox=outbox)
        assert waited - 5 <= gauge <= waited
    assert value(samples, "optout_outbox_pending", outbox="webhook") >= 2
    assert value(samples, "optout_outbox_oldest_due_seconds", outbox="webhook") >= 600
    assert value(samples, "optout_outbox_pending", outbox="mail") >= 1


def test_the_metrics_are_neither_documented_nor_kept_by_any_cache(
    client: TestClient, credentials: Credentials
) -> None:
    assert not any(
        path.startswith("/metrics") for path in client.get("/openapi.json").json()["paths"]
    )
    first = scrape(client, credentials)
    r = client.get("/metrics", headers=credentials.headers("admin"))
    assert "no-store" in r.headers["cache-control"] and "public" not in r.headers["cache-control"]
    assert client.get("/metrics").status_code == 401  # nothing kept for the next caller
    second = scrape(client, credentials)
    scrapes = {"route": "/metrics", "method": "GET", "status": "200"}
    assert value(second, REQUESTS, **scrapes) == value(first, REQUESTS, **scrapes) + 2


def test_openmetrics_is_answered_to_a_scraper_that_asks_for_it(
    client: TestClient, credentials: Credentials
) -> None:
    r = client.get(
        "/metrics", headers={**credentials.headers("admin"), "Accept": OPENMETRICS_ACCEPT}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.endswith("# EOF\n") and "optout_outbox_pending" in r.text
