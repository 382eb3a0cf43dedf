"""A signed-in user switches to Spanish with the header's link: the account keeps it, and
another browser they sign in from reads Spanish too; English is one tap away. The account's
language form on a phone, as it comes and with a double tap."""

import re

from playwright.sync_api import Browser, Page, expect

from optout_tracker.enums import Role
from tests.browser.conftest import SCREENSHOTS, LiveServer, sideways


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


def test_on_a_phone_the_language_form_saves_as_it_comes_and_once_for_a_double_tap(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    account = live_server.new_account(Role.viewer)
    live_server.sign_in(page, account, next="/account")
    form = page.locator("form[action='/account/language']")
    form.get_by_role("button", name="Save").dblclick()  # as it comes: the page's language
    expect(page.locator(".flash")).to_contain_text(
        re.compile(r"Language saved\.|This form was already saved")
    )
    expect(page.locator("select#locale")).to_have_value("en")
    page.locator("select#locale").select_option("es")
    form.get_by_role("button", name="Save").dblclick()  # a double tap
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator(".flash")).to_contain_text(
        re.compile(r"Idioma guardado\.|Este formulario ya se había guardado")
    )
    expect(page.locator("select#locale")).to_have_value("es")
    assert (over := sideways(page)) <= 0, f"/account is {over} px too wide"
    page.screenshot(path=SCREENSHOTS / "account-language-saved-es-phone.png", full_page=True)
