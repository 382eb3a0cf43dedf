"""On a 390 px phone no page scrolls sideways: long ids wrap, wide tables scroll inside
their own box, and the embed's legend fits a 960×640 frame."""

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import LiveServer, sideways

PUBLIC = [
    "/",
    "/?view=states",
    "/states/CA",
    "/jurisdictions",
    "/jurisdictions?state=CA",
    "/jurisdictions?state=CA&kind=county",
    "/jurisdictions/ca-santa-clara-county",  # an OCD id, a long timeline
    "/jurisdictions/va-arlington-county",
    "/activity",
    "/agencies",  # the directory's tables of every bureau
    "/login",
]
SIGNED_IN = ["/jurisdictions/new", "/jurisdictions/ca-santa-clara-county/log/vote"]


@pytest.mark.parametrize("path", PUBLIC)
def test_no_public_page_scrolls_sideways_on_a_phone(phone_page: Page, path: str) -> None:
    phone_page.goto(path)
    assert (over := sideways(phone_page)) <= 0, f"{path} is {over} px too wide"


def test_no_organizer_form_scrolls_sideways_on_a_phone(
    phone_page: Page, live_server: LiveServer
) -> None:
    live_server.sign_in(phone_page, live_server.organizer)
    for path in SIGNED_IN:
        phone_page.goto(path)
        assert (over := sideways(phone_page)) <= 0, f"{path} is {over} px too wide"


def test_the_embed_fits_its_legend_in_a_960_by_640_frame(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 960, "height": 640}
    )
    page = context.new_page()
    try:
        for path in ("/embed/map", "/embed/map?state=CA", "/embed/map?layer=rollout"):
            page.goto(path)
            legend = page.locator("table.legend:visible").bounding_box()
            assert legend is not None, path
            assert legend["y"] + legend["height"] <= 640 and legend["x"] + legend["width"] <= 960, (
                path, legend,
            )  # fmt: skip
            assert (over := sideways(page)) <= 0, f"{path} is {over} px too wide"
        page.screenshot(path="artifacts/screenshots/embed-960x640.png")
    finally:
        context.close()


def test_the_list_form_submitted_as_it_comes_on_a_phone_lists_everything(
    phone_page: Page,
) -> None:
    page = phone_page
    page.goto("/jurisdictions")
    everything = page.locator("main > p", has_text="jurisdictions ·").inner_text()
    page.get_by_role("button", name="Show").tap()
    page.wait_for_url("**/jurisdictions?**")
    assert "kind=&status=&overdue=" in page.url  # what a browser sends for the empty fields
    assert page.locator("main > p", has_text="jurisdictions ·").inner_text() == everything
    page.get_by_label("Name contains").fill("Marin")
    page.get_by_role("button", name="Show").tap()
    page.wait_for_url("**q=Marin**")
    assert page.get_by_role("link", name="Marin County").count() == 1
