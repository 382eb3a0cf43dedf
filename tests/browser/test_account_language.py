"""A signed-in user switches to Spanish with the header's link: the account keeps it, and
another browser they sign in from reads Spanish too; English is one tap away."""

from playwright.sync_api import Browser, Page, expect

from optout_tracker.enums import Role
from tests.browser.conftest import SCREENSHOTS, LiveServer


def test_lang_while_signed_in_is_kept_for_every_browser(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    account = live_server.new_account(Role.viewer)
    live_server.sign_in(page, account, next="/agencies")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")

    elsewhere = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 800}
    )
    try:
        other = elsewhere.new_page()
        live_server.sign_in(other, account, next="/account")
        expect(other.locator("html")).to_have_attribute("lang", "es")
        expect(other.get_by_role("heading", name="Idioma")).to_be_visible()
        expect(other.locator("select#locale")).to_have_value("es")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        other.screenshot(path=SCREENSHOTS / "account-language-es.png", full_page=True)
        other.get_by_role("link", name="English").click()  # back in one tap
        expect(other.locator("html")).to_have_attribute("lang", "en")
        expect(other.locator("select#locale")).to_have_value("en")
    finally:
        elsewhere.close()
