"""The forms issue 10 changed, used as a person does on a phone: empty, wrong, then right."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer


def test_signing_in_and_out_on_a_phone(phone_page: Page, live_server: LiveServer) -> None:
    page, admin = phone_page, live_server.admin
    page.goto("/login")
    page.get_by_role("button", name="Sign in").tap()  # empty: the browser asks for the fields
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#email:invalid")).to_have_count(1)

    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_label("Email")).to_have_value(admin.email)  # kept for the next try

    page.get_by_label("Password").fill(admin.password)
    page.get_by_role("button", name="Sign in").dblclick()  # a double tap signs in once
    expect(page).to_have_url(live_server.url("/"))
    expect(page.get_by_text(admin.email)).to_be_visible()

    copied = page.context.cookies()
    page.goto("/logout")
    page.get_by_role("button", name="Sign out").tap()
    page.wait_for_url(live_server.url("/"))
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    # The cookie from before signing out is worth nothing now.
    page.context.add_cookies(copied)  # type: ignore[arg-type]
    page.goto("/admin/users")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_an_admin_subscribes_a_webhook_on_a_phone(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.admin, next="/admin/webhooks")
    add = page.get_by_role("button", name="Add")
    url = page.get_by_label("URL")

    add.tap()  # the form as it comes: no URL
    expect(page.locator(".error").first).to_be_visible()
    expect(page).to_have_url(live_server.url("/admin/webhooks"))

    url.fill("https://127.0.0.1:5432/")  # an internal service: refused, and said why
    add.tap()
    expect(page.locator("#e-url")).to_have_text("not allowed: 127.0.0.1 is a loopback address")
    expect(url).to_have_value("https://127.0.0.1:5432/")

    url.fill("https://93.184.215.14/optout-hook")
    add.tap()
    expect(page.get_by_text("https://93.184.215.14/optout-hook").first).to_be_visible()
    expect(page.get_by_text(re.compile("will not be shown again")).first).to_be_visible()
