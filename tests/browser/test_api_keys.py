"""On a 390×844 phone, in Chromium: an organizer makes an API key on /account, first with
the form as it comes (no name: refused, saying so), then named and double-tapped (one key,
its token shown once), and revokes it."""

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import col

from optout_tracker.db import create_db_engine
from optout_tracker.models import ApiKey
from tests.browser.conftest import SCREENSHOTS, AxeCheck, LiveServer, describe_violations, sideways
from tests.conftest import make_settings

NAME = "Coalition map (phone)"


def keys_named(live_server: LiveServer, name: str) -> list[tuple[int, bool]]:
    """(id, revoked) of the keys with this name."""
    engine = create_db_engine(make_settings(live_server.database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(col(ApiKey.id), col(ApiKey.revoked_at).is_not(None)).where(
                    col(ApiKey.name) == name
                )
            )
            return [(i or 0, bool(revoked)) for i, revoked in rows]
    finally:
        engine.dispose()


def test_on_a_phone_an_organizer_makes_a_key_with_a_double_tap_and_revokes_it(
    phone_page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.organizer, next="/account")
    section = page.locator("section", has=page.get_by_role("heading", name="Your API keys"))
    expect(section.get_by_label("Scope")).to_have_value("read")  # the safe choice first
    expect(section.locator("option")).to_have_text(
        ["read: also private notes", "write: also create and edit"]  # no admin for an organizer
    )
    section.get_by_role("button", name="Create").click()  # the form as it comes
    expect(page.locator("#e-name")).to_be_visible()
    assert keys_named(live_server, NAME) == []

    section = page.locator("section", has=page.get_by_role("heading", name="Your API keys"))
    section.get_by_label("Name").fill(NAME)
    section.get_by_role("button", name="Create").dblclick()  # a double tap
    # The second tap lands on the list (the first answer, with the token, is dropped by the
    # browser): one key was made, and the page says how to get another token.
    expect(page.locator(".flash, code.token").first).to_be_visible()
    ((first_id, _),) = keys_named(live_server, NAME)  # one key, not two
    expect(page.get_by_text("if you missed it, revoke the key")).to_be_visible()
    page.get_by_role("button", name=f"Revoke {NAME}").click()
    expect(page.locator(".flash")).to_contain_text("Revoked the key")

    section = page.locator("section", has=page.get_by_role("heading", name="Your API keys"))
    section.get_by_label("Name").fill(NAME)
    section.get_by_role("button", name="Create").click()
    token = page.locator("code.token")
    expect(token).to_contain_text("optk_")
    keys = keys_named(live_server, NAME)
    assert keys[0] == (first_id, True) and len(keys) == 2 and not keys[1][1], keys
    key_id = keys[1][0]
    assert (over := sideways(page)) <= 0, f"/account is {over} px too wide"
    assert not (found := axe(page)), describe_violations(found)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    token.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "account-api-key-phone.png")

    page.goto(live_server.url("/account"))
    expect(page.locator("code.token")).to_have_count(0)  # shown once
    page.get_by_role("button", name=f"Revoke {NAME}").click()
    expect(page.locator(".flash")).to_contain_text("Revoked the key")
    assert keys_named(live_server, NAME) == [(first_id, True), (key_id, True)]
