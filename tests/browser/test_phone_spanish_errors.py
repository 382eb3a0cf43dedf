"""A form in Spanish on a 390×844 phone, sent as it comes (empty): its errors are Spanish and
sit next to their fields, in Chromium (issue 17: "every page and form, field errors")."""

from playwright.sync_api import Page, expect

from optout_tracker.enums import Role
from tests.browser.conftest import SCREENSHOTS, LiveServer, sideways

FORM = "/jurisdictions/ca-sierra-county/log/vote"
REQUIRED = "Este campo es obligatorio"


def test_on_a_phone_the_vote_form_sent_empty_in_spanish_shows_spanish_errors_by_the_fields(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.new_account(Role.organizer), next=FORM)
    page.goto(live_server.url(f"{FORM}?lang=es"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("form.stack button[type=submit]").click()  # left as it comes

    summary = page.get_by_role("alert").filter(has_text="Corrija")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(f"Quién votó: {REQUIRED}")
    for name, label in (("body", "Quién votó"), ("held_on", "Fecha")):
        field = page.locator(f".field.invalid:has(#f-{name})")
        expect(field.get_by_label(label)).to_have_attribute("aria-describedby", f"e-{name}")
        error = field.locator(f"#e-{name}")
        expect(error).to_have_text(REQUIRED)
        # Next to its field: just below the input, on the screen's width.
        below = error.bounding_box()
        box = page.locator(f"#f-{name}").bounding_box()
        assert below and box and 0 <= below["y"] - (box["y"] + box["height"]) < 150, (below, box)
    text = page.locator("main").inner_text()
    assert "Field required" not in text and "Please correct" not in text
    assert sideways(page) <= 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#f-held_on").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "vote-form-errors-es-phone.png", full_page=False)
