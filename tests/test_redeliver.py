"""Redelivering a webhook delivery: through the API, the admin page and the worker. A
redelivery is a new delivery of the same event (the same body and webhook-id, a uuid of its
own); the first delivery and its attempts stay as they were."""

import json
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col
from standardwebhooks import Webhook as Verifier

from optout_tracker.db import unit_of_work
from optout_tracker.enums import DeliveryState
from optout_tracker.models import AuditEntry, Webhook, WebhookAttempt, WebhookDelivery
from optout_tracker.services import webhooks
from tests import factories
from tests.conftest import Credentials
from tests.forms import defaults
from tests.test_admin_webhooks import PAGE
from tests.test_pages import HTML, sign_in
from tests.test_webhooks import API, SECRET, Live, Receiver
from tests.test_webhooks import live as live  # the fixture: a migrated database per test
from tests.test_webhooks import receiver as receiver  # the fixture: a receiver on loopback


def finished(session: Session, hook: Webhook, state: DeliveryState) -> WebhookDelivery:
    """A test event's delivery that the worker delivered, or gave up on, after one attempt."""
    delivery = webhooks.send_test(session, hook)
    delivery.state, delivery.attempt_count, delivery.next_attempt_at = state, 1, None
    status = 200 if state is DeliveryState.delivered else 500
    error = None if status == 200 else "HTTP 500"
    session.add(
        WebhookAttempt(delivery_id=delivery.id or 0, number=1, status_code=status, error=error)
    )
    session.commit()
    return delivery


def redeliver_path(hook: Webhook, delivery: WebhookDelivery) -> str:
    return f"{API}/webhooks/{hook.id}/deliveries/{delivery.id}/redeliver"


def of_message(session: Session, message_id: str) -> list[WebhookDelivery]:
    session.expire_all()
    stmt = sa.select(WebhookDelivery).where(col(WebhookDelivery.message_id) == message_id)
    return list(session.scalars(stmt.order_by(col(WebhookDelivery.id))))


# The API


def test_a_failed_delivery_is_redelivered_as_a_new_delivery_of_the_same_message(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    first = finished(session, hook, DeliveryState.failed)
    admin = credentials.headers("admin")

    r = client.post(redeliver_path(hook, first), headers=admin)

    assert r.status_code == 202, r.text
    made = r.json()
    assert made["id"] != first.id and made["uuid"] != first.uuid
    assert made["message_id"] == first.message_id == first.uuid
    assert (made["event"], made["state"], made["attempt_count"]) == (first.event, "pending", 0)
    assert made["payload"] == json.loads(first.body) and made["attempts"] == []
    assert r.headers["location"].endswith(f"/webhooks/{hook.id}/deliveries/{made['id']}")
    assert client.get(r.headers["location"], headers=admin).json()["uuid"] == made["uuid"]
    # The first delivery keeps its state and its attempt.
    original, again = of_message(session, first.message_id)
    assert (original.id, original.state, original.attempt_count) == (
        first.id, DeliveryState.failed, 1,
    )  # fmt: skip
    assert again.id == made["id"] and again.body == first.body
    shown = client.get(f"{API}/webhooks/{hook.id}/deliveries/{first.id}", headers=admin).json()
    assert [a["status_code"] for a in shown["attempts"]] == [500]

    # A delivered one may be sent again too, and so may a redelivery: still the same message.
    r = client.post(redeliver_path(hook, again), headers=admin)
    assert r.status_code == 409  # pending: the worker sends it
    again.state = DeliveryState.delivered
    session.commit()
    r = client.post(redeliver_path(hook, again), headers=admin)
    assert r.status_code == 202 and r.json()["message_id"] == first.uuid
    assert len(of_message(session, first.message_id)) == 3


def test_a_redelivery_with_an_idempotency_key_is_made_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    first = finished(session, hook, DeliveryState.delivered)
    headers = {**credentials.headers("admin"), "Idempotency-Key": "redeliver-7d1c"}
    one = client.post(redeliver_path(hook, first), headers=headers)
    two = client.post(redeliver_path(hook, first), headers=headers)
    assert one.status_code == two.status_code == 202
    assert one.json() == two.json() and two.headers["idempotent-replayed"] == "true"
    assert two.headers["location"] == one.headers["location"]
    assert len(of_message(session, first.message_id)) == 2


def test_what_cannot_be_redelivered_is_refused_and_nothing_is_queued(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    other = factories.webhook(session, "https://press.example.org/hook")
    pending = webhooks.send_test(session, hook)
    session.commit()
    failed = finished(session, hook, DeliveryState.failed)
    admin = credentials.headers("admin")
    before = len(factories.deliveries(session))

    r = client.post(redeliver_path(hook, pending), headers=admin)
    assert r.status_code == 409 and "still pending" in r.json()["detail"]
    r = client.post(redeliver_path(other, failed), headers=admin)  # another's delivery
    assert r.status_code == 404 and f"webhook {other.id} has no delivery" in r.json()["detail"]
    r = client.post(f"{API}/webhooks/{hook.id}/deliveries/999999/redeliver", headers=admin)
    assert r.status_code == 404
    r = client.post(f"{API}/webhooks/{hook.id}/deliveries/0/redeliver", headers=admin)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
    hook.active = False
    session.commit()
    r = client.post(redeliver_path(hook, failed), headers=admin)
    assert r.status_code == 409 and "inactive" in r.json()["detail"]
    r = client.post(redeliver_path(hook, failed), headers=credentials.headers("write"))
    assert r.status_code == 403
    assert len(factories.deliveries(session)) == before


def test_redeliver_is_documented_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    path = f"{API}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver"
    operation = spec["paths"][path]["post"]
    assert operation["operationId"] == "redeliver_webhook_delivery"
    assert "webhook-id" in operation["summary"] + operation.get("description", "")
    schema = operation["responses"]["202"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/WebhookDeliveryPublic")
    shape = spec["components"]["schemas"]["WebhookDeliveryPublic"]["properties"]
    assert "webhook-id" in shape["message_id"]["description"]


# The worker


def test_the_receiver_gets_the_redelivery_with_the_same_webhook_id_and_body(
    live: Live, receiver: Receiver
) -> None:
    hook_id = live.subscribe(receiver.url, ["vote.created"])
    live.log_vote()
    receiver.statuses = [503]  # the receiver is down: the only attempt fails
    assert live.worker(webhook_max_attempts=1).run(once=True).failed == 1
    [first] = live.deliveries()

    with unit_of_work(live.engine) as session:
        audited = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        webhooks.redeliver(session, webhooks.get(session, hook_id), first.id or 0)
    with unit_of_work(live.engine) as session:  # not a change of the subscription: not audited
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audited
    assert live.worker(webhook_max_attempts=1).run(once=True).delivered == 1

    (failed_headers, failed_body), (headers, body) = receiver.got
    assert body == failed_body and headers["webhook-id"] == failed_headers["webhook-id"]
    assert headers["x-optout-delivery"] != failed_headers["x-optout-delivery"]
    assert Verifier(SECRET.encode()).verify(body, headers)["event"] == "vote.created"
    original, again = live.deliveries()
    assert (original.state, again.state) == (DeliveryState.failed, DeliveryState.delivered)
    assert again.uuid == headers["x-optout-delivery"] and again.message_id == first.uuid
    assert [a.status_code for a in live.attempts(original.id or 0)] == [503]
    assert [a.status_code for a in live.attempts(again.id or 0)] == [200]


# The admin page


def redeliver_form(hook: Webhook, delivery: WebhookDelivery) -> str:
    return f"{PAGE}/{hook.id}/deliveries/{delivery.id}/redeliver"


def test_the_page_offers_redeliver_for_finished_deliveries_of_an_active_subscription(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    pending = webhooks.send_test(session, hook)
    session.commit()
    delivered = finished(session, hook, DeliveryState.delivered)
    failed = finished(session, hook, DeliveryState.failed)
    sign_in(client, credentials, "admin")
    page = client.get(f"{PAGE}/{hook.id}").text
    assert f'action="{redeliver_form(hook, delivered)}"' in page
    assert f'action="{redeliver_form(hook, failed)}"' in page
    assert f'action="{redeliver_form(hook, pending)}"' not in page
    assert f"<dt>Message id</dt><dd><code>{failed.message_id}</code></dd>" in page
    hook.active = False
    session.commit()
    assert "/redeliver" not in client.get(f"{PAGE}/{hook.id}").text  # activate it first


def test_a_double_tap_on_redeliver_queues_one_delivery(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    failed = finished(session, hook, DeliveryState.failed)
    sign_in(client, credentials, "admin")
    action = redeliver_form(hook, failed)
    form = dict(defaults(client.get(f"{PAGE}/{hook.id}").text, action))
    assert set(form) == {"csrf_token", "form_token"}

    first = client.post(action, data=form, follow_redirects=False)
    second = client.post(action, data=form, follow_redirects=False)  # the same form again

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == f"{PAGE}/{hook.id}"
    original, again = of_message(session, failed.message_id)
    assert original.id == failed.id and again.state is DeliveryState.pending
    page = client.get(f"{PAGE}/{hook.id}").text
    assert "This form was already saved" in page
    assert f"<dt>Message id</dt><dd><code>{failed.message_id}</code> (a redelivery)</dd>" in page
    session.refresh(failed)
    assert failed.state is DeliveryState.failed  # left as it was


def test_redeliver_on_the_page_says_why_not_and_queues_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    pending = webhooks.send_test(session, hook)
    session.commit()
    sign_in(client, credentials, "admin")
    # A form drawn when it had failed, say, posted after it went back to pending.
    form = dict(defaults(client.get(f"{PAGE}/{hook.id}").text, f"{PAGE}/{hook.id}/test"))
    r = client.post(redeliver_form(hook, pending), data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}/{hook.id}"
    assert "Nothing was redelivered (delivery" in client.get(f"{PAGE}/{hook.id}").text
    assert len(factories.deliveries(session)) == 1
    form = dict(defaults(client.get(f"{PAGE}/{hook.id}").text, f"{PAGE}/{hook.id}/test"))
    r = client.post(f"{PAGE}/{hook.id}/deliveries/999999/redeliver", data=form, headers=HTML)
    assert r.status_code == 404 and "no webhook_delivery with id 999999" in r.text


def test_only_admins_redeliver_on_the_page(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    failed = finished(session, hook, DeliveryState.failed)
    r = client.post(redeliver_form(hook, failed), data={}, headers=HTML, follow_redirects=False)
    assert r.status_code == 403  # no session, no CSRF token
    sign_in(client, credentials, "organizer")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
    assert token
    r = client.post(redeliver_form(hook, failed), data={"csrf_token": token.group(1)}, headers=HTML)
    assert r.status_code == 403
    assert len(factories.deliveries(session)) == 1
