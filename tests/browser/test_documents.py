"""An organizer on a phone attaches a scan to a response from its page: in Chromium."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    SCREENSHOTS,
    AxeCheck,
    LiveServer,
    describe_violations,
    sideways,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def a_response(page: Page, live_server: LiveServer) -> dict:
    """A response of the shipped history, with its jurisdiction's slug."""
    answer = page.request.get(live_server.url("/api/v1/responses?limit=1&sort=id"))
    assert answer.ok, answer.status
    response: dict = answer.json()["items"][0]
    j = page.request.get(live_server.url(f"/api/v1/jurisdictions/{response['jurisdiction_id']}"))
    response["slug"] = j.json()["slug"]
    return response


def test_on_a_phone_a_scan_is_attached_to_a_response_and_listed_on_the_dossier(
    phone_page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page = phone_page
    response = a_response(page, live_server)
    path = f"/responses/{response['id']}"
    live_server.sign_in(page, live_server.organizer, next=path)
    expect(page.locator("h1")).to_contain_text(re.compile(r"\d{4}"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # Submitted with no file chosen: the form comes back with a clear error at the field.
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".upload .error")).to_contain_text("The file is missing")
    expect(page.get_by_label("Attach a file")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=SCREENSHOTS / "documents-no-file-phone.png", full_page=True)

    page.get_by_label("Attach a file").set_input_files(
        {"name": "ICE answer 2011.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(rf"{path}$"))
    expect(page.locator(".flash")).to_have_text("ICE answer 2011.pdf was attached to the response.")
    item = page.locator(".documents li", has_text="ICE answer 2011.pdf")
    expect(item).to_contain_text("PDF")
    expect(item).to_contain_text("private")
    assert (over := sideways(page)) <= 0, f"the response page {path} is {over} px too wide"
    page.screenshot(path=SCREENSHOTS / "documents-response-phone.png", full_page=True)
    violations = axe(page)
    assert not violations, f"response page: {describe_violations(violations)}"

    link = item.get_by_role("link", name="ICE answer 2011.pdf")
    served = page.request.get(live_server.url(link.get_attribute("href") or ""))
    assert served.ok and served.body() == PDF
    assert served.headers["content-disposition"].startswith("attachment;")

    page.goto(live_server.url(f"/jurisdictions/{response['slug']}"))
    expect(page.locator("#documents")).to_be_visible()
    expect(page.get_by_role("link", name="ICE answer 2011.pdf")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "documents-dossier-phone.png", full_page=True)

    # Signed out, the private scan is nowhere.
    page.context.clear_cookies()
    page.goto(live_server.url(path))
    expect(page.get_by_text("ICE answer 2011.pdf")).to_have_count(0)
    page.goto(live_server.url(f"/jurisdictions/{response['slug']}"))
    expect(page.get_by_text("ICE answer 2011.pdf")).to_have_count(0)
