"""On a 390×844 phone, in Chromium: an admin redelivers a failed webhook delivery with a
double tap, and one new delivery of the event is queued."""

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import col

from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import DeliveryState
from optout_tracker.models import WebhookAttempt, WebhookDelivery
from optout_tracker.schemas import WebhookCreate
from optout_tracker.security import CLI
from optout_tracker.services import webhooks
from tests.browser.conftest import SCREENSHOTS, AxeCheck, LiveServer, describe_violations, sideways
from tests.conftest import make_settings

SAVED_OR_ALREADY = re.compile(r"is queued again|already saved")


def failed_delivery(live_server: LiveServer) -> tuple[int, int, str]:
    """A subscription whose test event the worker gave up on: (webhook id, delivery id,
    message id)."""
    engine = create_db_engine(make_settings(live_server.database_url))
    try:
        with unit_of_work(engine) as session:
            # One rare event: the other tests' changes to the shared database queue nothing.
            data = WebhookCreate(
                url="https://coalition.example.org/hooks/phone", events=["agency.deleted"]
            )
            hook = webhooks.create(session, data, CLI)
            delivery = webhooks.send_test(session, hook)
            delivery.state, delivery.attempt_count, delivery.next_attempt_at = (
                DeliveryState.failed, 1, None,
            )  # fmt: skip
            session.add(delivery)
            session.add(WebhookAttempt(delivery_id=delivery.id or 0, number=1, status_code=502,
                                       error="HTTP 502"))  # fmt: skip
            return hook.id or 0, delivery.id or 0, delivery.message_id
    finally:
        engine.dispose()


def deliveries_of(live_server: LiveServer, message_id: str) -> list[tuple[int, DeliveryState]]:
    engine = create_db_engine(make_settings(live_server.database_url))
    try:
        with engine.connect() as conn:
            stmt = (
                sa.select(col(WebhookDelivery.id), col(WebhookDelivery.state))
                .where(col(WebhookDelivery.message_id) == message_id)
                .order_by(col(WebhookDelivery.id))
            )
            return [(i or 0, DeliveryState(s)) for i, s in conn.execute(stmt)]
    finally:
        engine.dispose()


def test_on_a_phone_a_double_tap_on_redeliver_queues_one_delivery(
    phone_page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    hook_id, delivery_id, message_id = failed_delivery(live_server)
    page = phone_page
    live_server.sign_in(page, live_server.admin, next=f"/admin/webhooks/{hook_id}")
    article = page.locator(f'article[aria-labelledby="d-{delivery_id}"]')
    button = article.get_by_role("button", name="Redeliver")
    expect(button).to_be_visible()
    assert (over := sideways(page)) <= 0, f"the subscription's page is {over} px too wide"
    assert not (found := axe(page)), describe_violations(found)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    button.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "webhook-redeliver-phone.png")

    button.dblclick()  # a double tap

    expect(page).to_have_url(live_server.url(f"/admin/webhooks/{hook_id}"))
    expect(page.locator(".flash")).to_contain_text(SAVED_OR_ALREADY)
    queued = deliveries_of(live_server, message_id)
    assert queued[0] == (delivery_id, DeliveryState.failed)  # the first, as it was
    assert [state for _, state in queued[1:]] == [DeliveryState.pending], queued  # one, not two
    redelivery = page.locator(f'article[aria-labelledby="d-{queued[1][0]}"]')
    expect(redelivery).to_contain_text("(a redelivery)")
    expect(redelivery.get_by_role("button", name="Redeliver")).to_have_count(0)  # pending
