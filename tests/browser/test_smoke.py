"""The browser path works end to end: sign in through the form; the sign-in page passes axe."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import AxeCheck, LiveServer, describe_violations


def test_an_organizer_signs_in_and_sees_their_email(page: Page, live_server: LiveServer) -> None:
    organizer = live_server.organizer
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(organizer.email)
    page.get_by_label("Password").fill(organizer.password)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(live_server.url("/"))
    expect(page.get_by_text(organizer.email)).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_have_count(0)


def test_the_sign_in_page_has_no_serious_accessibility_violations(
    page: Page, axe: AxeCheck
) -> None:
    page.goto("/login")
    violations = axe(page)
    assert not violations, describe_violations(violations)
