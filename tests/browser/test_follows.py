"""A signed-in organizer on a phone follows a county from its dossier: in Chromium."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    SCREENSHOTS,
    AxeCheck,
    LiveServer,
    describe_violations,
    sideways,
)

DOSSIER = "/jurisdictions/ca-alpine-county"


def test_on_a_phone_a_user_follows_a_county_and_finds_it_on_account(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.organizer, next=DOSSIER)
    page.get_by_role("button", name="Follow").click()
    page.wait_for_url(live_server.url(DOSSIER))
    expect(page.locator(".flash")).to_have_text("Following.")
    expect(page.locator("form.follow")).to_contain_text("Following")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "follow-dossier-phone.png")
    page.get_by_role("link", name="Account").click()
    page.wait_for_url(live_server.url("/account"))
    expect(page.get_by_role("link", name="Alpine County, CA")).to_be_visible()
    expect(page.get_by_text("Mail is off on this server")).to_be_visible()
    assert (over := sideways(page)) <= 0, f"/account is {over} px too wide"
    page.screenshot(path=SCREENSHOTS / "account-phone.png", full_page=True)
    page.get_by_label("Alerts").first.select_option("weekly")
    page.get_by_role("button", name="Change alerts for Alpine County, CA").click()
    expect(page.locator(".flash")).to_have_text("Alerts changed.")
    page.get_by_role("button", name="Stop following Alpine County, CA").click()
    expect(page.locator(".flash")).to_have_text("No longer following.")
    expect(page.get_by_role("link", name="Alpine County, CA")).to_have_count(0)


def test_the_follow_up_account_and_unsubscribe_pages_have_no_serious_accessibility_violations(
    page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page.goto(live_server.url("/follow-up?state=CA"))
    expect(page.get_by_role("heading", name="Follow-up")).to_be_visible()
    assert not (violations := axe(page)), f"/follow-up: {describe_violations(violations)}"
    page.goto(live_server.url("/unsubscribe/not-a-real-token"))
    assert not (violations := axe(page)), f"/unsubscribe: {describe_violations(violations)}"
    live_server.sign_in(page, live_server.organizer, next="/account")
    assert not (violations := axe(page)), f"/account: {describe_violations(violations)}"
    page.goto(live_server.url("/states/VA"))
    expect(page.get_by_role("button", name="Follow")).to_be_visible()
