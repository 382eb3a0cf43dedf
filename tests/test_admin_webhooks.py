"""The admin pages for webhook subscriptions and their deliveries, without JavaScript."""

import re
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.enums import TEST_EVENT, DeliveryState
from optout_tracker.models import Webhook, WebhookAttempt, WebhookDelivery
from optout_tracker.services import webhooks
from tests import factories
from tests.conftest import Credentials
from tests.test_pages import HOSTILE, HTML, csrf, sign_in

PAGE = "/admin/webhooks"
RECEIVER = "https://coalition.example.org/hooks/optout"


def post_form(client: TestClient, path: str, form_page: str, data: dict[str, Any]):
    """tests.test_pages.post_form, also for fields sent more than once (ticked boxes)."""
    return client.post(
        path, data={**data, "csrf_token": csrf(client, form_page)}, follow_redirects=False
    )


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_the_webhook_pages_are_for_admins(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    for path in (PAGE, f"{PAGE}/{hook.id}"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    # Without a session there is no CSRF token, and without one no form is taken.
    r = client.post(PAGE, data={"url": RECEIVER, "events": "*"}, headers=HTML)
    assert r.status_code == 403 and "CSRF" in r.text

    sign_in(client, credentials, "organizer")
    assert client.get(PAGE, headers=HTML).status_code == 403
    assert client.get(f"{PAGE}/{hook.id}", headers=HTML).status_code == 403
    token = csrf(client, "/jurisdictions/ca-alameda-county/log/vote")
    for path, data in [
        (PAGE, {"url": "https://elsewhere.example.org/", "events": "*"}),
        (f"{PAGE}/{hook.id}", {"url": "https://elsewhere.example.org/", "events": "*"}),
        (f"{PAGE}/{hook.id}/active", {"active": "false"}),
        (f"{PAGE}/{hook.id}/test", {}),
        (f"{PAGE}/{hook.id}/delete", {}),
    ]:
        r = client.post(path, data={**data, "csrf_token": token}, headers=HTML)
        assert r.status_code == 403, path
    session.refresh(hook)
    assert hook.active and hook.url == RECEIVER
    assert count(session, Webhook) == 1 and count(session, WebhookDelivery) == 0


def test_the_admin_pages_share_one_set_of_tabs(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    sign_in(client, credentials, "admin")
    for path, current in [
        ("/admin/users", "/admin/users"),
        ("/admin/api-keys", "/admin/api-keys"),
        (PAGE, PAGE),
        (f"{PAGE}/{hook.id}", PAGE),
    ]:
        page = client.get(path).text
        tabs = re.search(r'<nav class="tabs" aria-label="Admin">(.*?)</nav>', page, re.S)
        assert tabs, path
        links = re.findall(r'<a href="([^"]+)"( aria-current="[^"]+")?>', tabs.group(1))
        assert [href for href, _ in links] == ["/admin/users", "/admin/api-keys", PAGE], path
        marked = {href: mark for href, mark in links if mark}
        # The detail page is inside the Webhooks section, not the list itself.
        assert marked == {
            current: ' aria-current="page"' if path == current else ' aria-current="true"'
        }
        site_nav = re.search(r'<nav aria-label="Site">(.*?)</nav>', page, re.S)
        assert site_nav and 'href="/admin/users">Admin<' in site_nav.group(1)
        assert PAGE not in site_nav.group(1)  # reached through the Admin tabs


def test_a_new_subscription_shows_its_generated_secret_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    r = post_form(client, PAGE, PAGE, {
        "url": RECEIVER, "description": "Coalition map", "secret": "",
        "events": ["vote.created", "jurisdiction.status_changed"],
    })  # fmt: skip
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    shown = re.search(r'<code class="token">(whsec_[^<]+)</code>', r.text)
    assert shown
    hook = session.scalars(sa.select(Webhook)).one()
    assert hook.secret == shown.group(1) and hook.description == "Coalition map"
    assert hook.events == ["vote.created", "jurisdiction.status_changed"] and hook.active
    assert "X-Optout-Signature" in r.text and "X-Optout-Delivery" in r.text
    assert "HMAC-SHA256 of the raw request body" in r.text

    listing = client.get(PAGE).text
    assert hook.secret not in listing  # shown once, never listed
    assert f'href="/admin/webhooks/{hook.id}">{RECEIVER}</a>' in listing
    assert "vote.created, jurisdiction.status_changed" in listing
    assert hook.secret not in client.get(f"{PAGE}/{hook.id}").text


def test_a_chosen_secret_and_all_events(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    secret = "s3cret-shared-with-the-partner"
    r = post_form(client, PAGE, PAGE, {"url": RECEIVER, "secret": secret, "events": "*"})
    assert r.status_code == 200 and f'<code class="token">{secret}</code>' in r.text
    hook = session.scalars(sa.select(Webhook)).one()
    assert hook.secret == secret and hook.events == ["*"]
    assert "all events" in client.get(PAGE).text


def test_a_refused_subscription_shows_errors_beside_fields_and_writes_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    r = post_form(client, PAGE, PAGE, {
        "url": "ftp://coalition.example.org/", "description": "Coalition map",
        "events": ["vote.created", "vote.exploded"],
    })  # fmt: skip
    assert r.status_code == 422 and r.headers["cache-control"] == "private, no-store"
    url_error = re.search(r'<p class="error" id="e-url">([^<]+)</p>', r.text)
    events_error = re.search(r'<p class="error" id="e-events">([^<]+)</p>', r.text)
    assert url_error and events_error
    assert url_error.group(1) == "must be an http:// or https:// URL without spaces"
    assert "&#39;vote.exploded&#39; is not an event" in events_error.group(1)
    assert 'aria-invalid="true" aria-describedby="e-url"' in r.text
    # The input is kept: the text, and the boxes that were ticked.
    assert 'value="ftp://coalition.example.org/"' in r.text and 'value="Coalition map"' in r.text
    assert 'value="vote.created" checked' in r.text and 'value="*" checked' not in r.text
    assert "whsec_" not in r.text

    r = post_form(client, PAGE, PAGE, {"url": RECEIVER})  # no box ticked
    assert r.status_code == 422
    assert '<p class="error" id="e-events">tick at least one event, or all events</p>' in r.text
    r = post_form(client, PAGE, PAGE, {"url": RECEIVER, "events": "*", "secret": "short"})
    assert r.status_code == 422 and 'id="e-secret"' in r.text
    assert count(session, Webhook) == 0


def test_pause_and_activate_a_subscription(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    sign_in(client, credentials, "admin")
    r = post_form(client, f"{PAGE}/{hook.id}/active", PAGE, {"active": "false"})
    assert r.status_code == 303 and r.headers["location"] == PAGE
    session.refresh(hook)
    assert not hook.active
    page = client.get(PAGE).text
    assert "is paused" in page and ">Activate<" in page
    r = post_form(client, f"{PAGE}/{hook.id}/active", PAGE, {"active": "true", "back": "detail"})
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}/{hook.id}"
    session.refresh(hook)
    assert hook.active


def test_send_test_queues_a_delivery_or_says_why_not(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    sign_in(client, credentials, "admin")
    r = post_form(client, f"{PAGE}/{hook.id}/test", PAGE, {})
    assert r.status_code == 303
    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    assert delivery.webhook_id == hook.id and delivery.event == TEST_EVENT
    assert delivery.state is DeliveryState.pending and delivery.attempt_count == 0
    page = client.get(PAGE).text
    assert f"delivery {delivery.uuid}) is queued" in page
    assert re.search(r"1 pending,</span>\s*<span class=\"nowrap\">0 failed", page)

    hook.active = False
    session.commit()
    r = post_form(client, f"{PAGE}/{hook.id}/test", f"{PAGE}/{hook.id}", {"back": "detail"})
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}/{hook.id}"
    assert "the webhook is inactive" in client.get(f"{PAGE}/{hook.id}").text
    assert count(session, WebhookDelivery) == 1


def test_delete_a_subscription_and_its_deliveries(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    other = factories.webhook(session, "https://press.example.org/hook")
    webhooks.send_test(session, hook)
    webhooks.send_test(session, other)
    session.commit()
    sign_in(client, credentials, "admin")
    assert "Delete this subscription" in client.get(f"{PAGE}/{hook.id}").text
    r = post_form(client, f"{PAGE}/{hook.id}/delete", f"{PAGE}/{hook.id}", {})
    assert r.status_code == 303 and r.headers["location"] == PAGE
    assert f"Deleted the subscription of {RECEIVER}" in client.get(PAGE).text
    assert session.scalars(sa.select(col(Webhook.id))).all() == [other.id]
    assert session.scalars(sa.select(col(WebhookDelivery.webhook_id))).all() == [other.id]
    assert client.get(f"{PAGE}/{hook.id}", headers=HTML).status_code == 404


def test_the_deliveries_page_shows_each_attempt_and_escapes_what_receivers_said(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session, description=HOSTILE)
    failed = webhooks.send_test(session, hook)
    failed.state, failed.attempt_count = DeliveryState.failed, 2
    assert failed.id is not None
    session.add_all([
        WebhookAttempt(delivery_id=failed.id, number=1, status_code=500, error="HTTP 500",
                       response_excerpt=HOSTILE, duration_ms=231),
        WebhookAttempt(delivery_id=failed.id, number=2, error=f"ConnectError: {HOSTILE}",
                       duration_ms=5004),
    ])  # fmt: skip
    pending = webhooks.send_test(session, hook)
    session.commit()
    sign_in(client, credentials, "admin")

    r = client.get(f"{PAGE}/{hook.id}")
    assert r.status_code == 200
    text = r.text
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    assert failed.uuid in text and pending.uuid in text
    assert text.index(pending.uuid) < text.index(failed.uuid)  # newest first
    assert "HTTP 500" in text and "231 ms" in text and "5004 ms" in text
    assert "ConnectError: &lt;script&gt;" in text
    assert "A test event from optout-tracker." in text  # the payload
    assert re.search(r'<span class="badge d-failed">failed</span>', text)
    assert "<script>alert" not in client.get(PAGE).text

    only_failed = client.get(f"{PAGE}/{hook.id}?state=failed").text
    assert failed.uuid in only_failed and pending.uuid not in only_failed
    first = client.get(f"{PAGE}/{hook.id}?limit=1").text
    assert pending.uuid in first and failed.uuid not in first
    assert 'rel="next" href="?limit=1&amp;offset=1"' in first
    assert failed.uuid in client.get(f"{PAGE}/{hook.id}?limit=1&offset=1").text
    assert client.get(f"{PAGE}/{hook.id}?state=lost", headers=HTML).status_code == 422


def test_an_unknown_subscription_is_the_usual_404_page(
    client: TestClient, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    r = client.get(f"{PAGE}/999999", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in r.text and "no webhook with id 999999" in r.text
    r = post_form(client, f"{PAGE}/999999/active", PAGE, {"active": "false"})
    assert r.status_code == 404


def test_the_list_counts_undelivered_events_without_a_query_per_row(
    client: TestClient, session: Session, credentials: Credentials, count_queries: Any
) -> None:
    sign_in(client, credentials, "admin")
    first = factories.webhook(session)
    webhooks.send_test(session, first)
    session.commit()
    with count_queries() as one:
        client.get(PAGE)
    for n in range(3):
        hook = factories.webhook(session, f"https://partner{n}.example.org/hook")
        delivery = webhooks.send_test(session, hook)
        delivery.state = DeliveryState.failed
    session.commit()
    with count_queries() as four:
        page = client.get(PAGE).text
    assert four.count == one.count
    assert page.count("1 failed</a>") == 3 and "1 pending," in page


def edit(client: TestClient, hook: Webhook, data: dict[str, Any]):
    page = f"{PAGE}/{hook.id}"
    return post_form(client, page, page, data)


def test_the_edit_form_shows_what_is_stored(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session, description="Coalition map", events=["vote.created"])
    sign_in(client, credentials, "admin")
    page = client.get(f"{PAGE}/{hook.id}").text
    form = re.search(rf'<form method="post" action="{PAGE}/{hook.id}" .*?</form>', page, re.S)
    assert form, "the edit form"
    assert f'value="{RECEIVER}"' in form.group(0) and 'value="Coalition map"' in form.group(0)
    assert 'value="vote.created" checked' in form.group(0)
    assert 'value="*" checked' not in form.group(0)
    assert 'id="f-secret" name="secret" type="text" value=""' in form.group(0)
    assert 'name="generate_secret" value="true">' in form.group(0)  # not ticked
    assert hook.secret not in page


def test_edit_the_url_description_and_events_keeping_the_secret(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session, description="Coalition map", events=["vote.created"])
    secret = hook.secret
    sign_in(client, credentials, "admin")
    r = edit(client, hook, {
        "url": "https://coalition.example.org/hooks/v2", "description": "",
        "events": ["letter.created", "jurisdiction.status_changed"], "secret": "",
    })  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}/{hook.id}"
    session.refresh(hook)
    assert hook.url == "https://coalition.example.org/hooks/v2" and hook.description is None
    assert hook.events == ["letter.created", "jurisdiction.status_changed"]
    assert hook.secret == secret and hook.active
    page = client.get(f"{PAGE}/{hook.id}").text
    assert "Saved the subscription of https://coalition.example.org/hooks/v2." in page
    assert secret not in page


def test_edit_with_a_typed_secret(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    sign_in(client, credentials, "admin")
    new = "rotated-secret-agreed-with-partner"
    r = edit(client, hook, {"url": RECEIVER, "events": "*", "secret": new})
    assert r.status_code == 303
    session.refresh(hook)
    assert hook.secret == new
    assert new not in client.get(f"{PAGE}/{hook.id}").text


def test_a_generated_secret_is_shown_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session)
    old = hook.secret
    sign_in(client, credentials, "admin")
    r = edit(client, hook, {"url": RECEIVER, "events": "*", "generate_secret": "true"})
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    shown = re.search(r'<code class="token">(whsec_[^<]+)</code>', r.text)
    session.refresh(hook)
    assert shown and hook.secret == shown.group(1) != old
    assert 'name="generate_secret" value="true">' in r.text  # the box is not ticked again
    assert hook.secret not in client.get(f"{PAGE}/{hook.id}").text


def test_a_refused_edit_shows_errors_beside_fields_and_writes_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    hook = factories.webhook(session, description="Coalition map", events=["vote.created"])
    stored = hook.model_dump()
    sign_in(client, credentials, "admin")
    r = edit(client, hook, {
        "url": "coalition.example.org/hooks", "description": "Press desk",
        "events": ["letter.created", "letter.mailed"], "secret": "short",
    })  # fmt: skip
    assert r.status_code == 422 and r.headers["cache-control"] == "private, no-store"
    errors = dict(re.findall(r'<p class="error" id="e-(\w+)">([^<]+)</p>', r.text))
    assert errors["url"] == "must be an http:// or https:// URL without spaces"
    assert "&#39;letter.mailed&#39; is not an event" in errors["events"]
    assert "secret" in errors
    assert '<details class="edit" open>' in r.text
    # The input is kept; the page's facts still show what is stored.
    assert 'value="coalition.example.org/hooks"' in r.text and 'value="Press desk"' in r.text
    assert (
        'value="letter.created" checked' in r.text and 'value="vote.created" checked' not in r.text
    )
    assert f'<h1 class="wrap">{RECEIVER}</h1>' in r.text and "<dd>Coalition map</dd>" in r.text

    r = edit(client, hook, {"url": RECEIVER})  # no box ticked
    assert r.status_code == 422
    assert '<p class="error" id="e-events">tick at least one event, or all events</p>' in r.text
    r = edit(client, hook, {
        "url": RECEIVER, "events": "*", "secret": "a-long-enough-secret", "generate_secret": "true",
    })  # fmt: skip
    assert r.status_code == 422 and 'id="e-secret"' in r.text and "whsec_" not in r.text
    assert 'name="generate_secret" value="true" checked>' in r.text
    session.expire_all()
    assert session.get(Webhook, hook.id).model_dump() == stored  # type: ignore[union-attr]


def test_undelivered_counts_are_by_subscription_and_state(session: Session) -> None:
    quiet, busy = (
        factories.webhook(session),
        factories.webhook(session, "https://press.example.org/hook"),
    )
    states = [DeliveryState.pending, DeliveryState.failed, DeliveryState.failed,
              DeliveryState.delivered]  # fmt: skip
    for state in states:
        webhooks.send_test(session, busy).state = state
    session.flush()
    assert quiet.id and busy.id
    counts = webhooks.undelivered_counts(session, [quiet.id, busy.id])
    assert counts == {quiet.id: {}, busy.id: {DeliveryState.pending: 1, DeliveryState.failed: 2}}
    assert counts[quiet.id][DeliveryState.failed] == 0
    assert webhooks.undelivered_counts(session, []) == {}


def test_a_bad_url_reads_the_same_in_the_api_and_the_forms(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    message = "must be an http:// or https:// URL without spaces"
    r = client.post(
        "/api/v1/webhooks",
        json={"url": "partner.example/hook"},
        headers=credentials.headers("admin"),
    )
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "url" and error["message"].endswith(message)
    assert "pattern" not in error["message"]
    sign_in(client, credentials, "organizer")
    base = "/jurisdictions/ca-alameda-county/log/vote"
    r = post_form(client, base, base, {
        "body": "Board of Supervisors", "held_on": "2010-10-19", "outcome": "passed",
        "source_url": "www.acgov.org/board",
    })  # fmt: skip
    assert r.status_code == 422
    assert f'<p class="error" id="e-source_url">{message}</p>' in r.text


def test_who_may_open_a_page_is_checked_before_its_parameters(
    client: TestClient, credentials: Credentials
) -> None:
    """A visitor is sent to sign in, and a user without the role refused, whatever the URL
    holds: telling them which parameter is wrong would describe a page they may not see."""
    bad = [f"{PAGE}?limit=0", f"{PAGE}/0", f"{PAGE}/abc"]
    for path in bad:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    sign_in(client, credentials, "organizer")
    for path in bad:
        assert client.get(path, headers=HTML).status_code == 403
