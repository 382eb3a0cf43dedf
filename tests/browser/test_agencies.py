"""The agency directory on a 390×844 phone: find a state's bureau, read its contacts with
their source and its record of letters, and add a missing contact as an organizer."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    SCREENSHOTS,
    AxeCheck,
    LiveServer,
    describe_violations,
    sideways,
)


def test_an_organizer_finds_a_bureau_and_adds_its_fax_on_a_phone(
    phone_page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.organizer)
    page.goto("/agencies?state=CA")
    assert (over := sideways(page)) <= 0, f"/agencies?state=CA is {over} px too wide"
    assert not (v := axe(page)), describe_violations(v)
    page.screenshot(path=SCREENSHOTS / "agencies-list-phone.png", full_page=True)
    page.get_by_role("link", name=re.compile("California Department of Justice")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("California Department of Justice")
    expect(page.get_by_text("Source: https://oag.ca.gov/")).to_be_visible()
    expect(page.get_by_text("Letters received")).to_be_visible()
    expect(page.get_by_role("heading", name="Letters awaiting an answer")).to_be_visible()
    assert (over := sideways(page)) <= 0, f"the agency page {page.url} is {over} px too wide"
    assert not (v := axe(page)), describe_violations(v)
    page.screenshot(path=SCREENSHOTS / "agency-phone.png", full_page=True)

    page.locator("dd", has_text="unknown").filter(
        has=page.locator('a[href$="#f-fax"]')
    ).get_by_role("link", name="add it").click()
    page.get_by_label("Fax").fill("916-555-0123")
    assert (over := sideways(page)) <= 0, f"the agency form {page.url} is {over} px too wide"
    page.screenshot(path=SCREENSHOTS / "agency-form-phone.png", full_page=True)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("The agency was saved.")
    expect(page.locator("dd", has_text="916-555-0123")).to_be_visible()
