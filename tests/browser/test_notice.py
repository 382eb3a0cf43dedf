"""On a phone, right after a council vote: prepare the notice, save it with a double tap,
see the checklist turn ✓/✓ and the step disappear; then the letter, printable."""

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from optout_tracker.enums import Role
from tests.browser.conftest import (
    SCREENSHOTS,
    AxeCheck,
    LiveServer,
    describe_violations,
    sideways,
)

DOSSIER = "/jurisdictions/ca-sierra-county"  # activated in 2011, no campaign events of its own


def test_on_a_phone_the_notice_goes_to_the_sib_and_ice_in_one_submit(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    live_server.sign_in(page, live_server.organizer, next=DOSSIER)
    today = datetime.now(UTC).date().isoformat()
    page.get_by_role("link", name="Log a vote").click()
    page.get_by_label("Who voted").fill("Board of Supervisors")
    page.get_by_label("Date").fill(today)
    page.get_by_label("Outcome").select_option("passed")
    page.get_by_label("Yes").fill("4")
    page.get_by_label("No", exact=True).fill("1")
    page.get_by_role("button", name="Save the vote").click()
    expect(page.locator(".flash")).to_have_text("The vote was logged.")
    steps = page.locator("#next-steps + ul")
    expect(steps).to_contain_text("Send the written notice")

    page.locator(".next-notice").get_by_role("link", name="Prepare the notice").click()
    expect(page.locator("h1")).to_have_text("Prepare the notice")
    checked = page.locator("input[name=recipients]:checked")
    expect(checked).to_have_count(2)
    body = page.get_by_label("Text of the letter")
    expect(body).to_contain_text("the Board of Supervisors of Sierra County voted")
    expect(body).to_contain_text("The vote was 4 to 1.")
    assert (over := sideways(page)) <= 0, f"the notice form {page.url} is {over} px too wide"
    page.screenshot(path=SCREENSHOTS / "notice-form-phone.png", full_page=True)

    page.get_by_role("button", name="Log the notice").dblclick()  # a double tap
    expect(page).to_have_url(re.compile(rf"{DOSSIER}#notice$"))
    # The page shown is the last answer: the first tap's, or the second's, which lands on
    # what the first saved.
    saved = re.compile(r"The notice was logged: 2 letters|This form was already saved")
    expect(page.locator(".flash")).to_contain_text(saved)
    checklist = page.locator("ul.checklist")
    expect(checklist.locator("li.done")).to_have_count(2)
    expect(checklist).to_contain_text("✓ State identification bureau")
    expect(checklist).to_contain_text("✓ ICE")
    expect(page.locator("#next-steps")).to_have_count(0)  # send_notice was the only step
    expect(page.locator(".next-notice")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "notice-done-phone.png", full_page=True)

    found = page.request.get(live_server.url("/api/v1/jurisdictions?q=Sierra&state=CA")).json()
    jurisdiction_id = found["items"][0]["id"]
    sent = page.request.get(
        live_server.url(f"/api/v1/letters?jurisdiction_id={jurisdiction_id}")
    ).json()
    assert sent["total"] == 2  # two letters, not four

    page.get_by_role("link", name="The letter, printable").first.click()
    expect(page.locator("article.letter")).to_contain_text("Sincerely,")
    expect(page.locator("article.letter")).to_contain_text("Sierra County")
    page.screenshot(path=SCREENSHOTS / "letter-phone.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator(".letter-tools").first).to_be_hidden()
    expect(page.locator("article.letter")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "letter-print.png", full_page=True)


def test_the_notice_form_and_a_letter_have_no_serious_accessibility_violations(
    page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    live_server.sign_in(page, live_server.organizer, next="/jurisdictions/va-arlington-county")
    page.goto(live_server.url("/jurisdictions/va-arlington-county/notice"))
    violations = axe(page)
    assert not violations, f"notice form: {describe_violations(violations)}"
    page.goto(live_server.url("/jurisdictions/va-arlington-county"))
    page.get_by_role("link", name="The letter, printable").first.click()
    expect(page).to_have_url(re.compile(r"/letters/\d+$"))
    violations = axe(page)
    assert not violations, f"letter: {describe_violations(violations)}"
    page.get_by_role("link", name="Write a follow-up").click()
    # axe must not start on the letter while the browser is leaving it.
    expect(page).to_have_url(re.compile(r"/letters/\d+/chaser$"))
    violations = axe(page)
    assert not violations, f"follow-up form: {describe_violations(violations)}"


def test_on_a_phone_the_spanish_notice_form_as_it_comes_logs_english_letters_once(
    phone_page: Page, live_server: LiveServer
) -> None:
    """The form in Spanish (?lang=es), submitted with its defaults: the letters stay in
    English, saved once for a double tap; each reads in Spanish as a labelled translation."""
    page = phone_page
    dossier = "/jurisdictions/ca-plumas-county"  # no other test writes here
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    live_server.sign_in(page, live_server.new_account(Role.organizer), next=dossier)
    page.goto(live_server.url(f"{dossier}/notice?lang=es"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Preparar la notificación")
    expect(page.get_by_label("Idioma de la carta")).to_have_value("en")
    expect(page.get_by_label("Texto de la carta")).to_contain_text("To whom it may concern:")
    assert (over := sideways(page)) <= 0, f"the notice form {page.url} is {over} px too wide"
    page.screenshot(path=SCREENSHOTS / "notice-form-es-phone.png", full_page=True)

    page.get_by_role("button", name="Registrar la notificación").dblclick()  # a double tap
    expect(page).to_have_url(re.compile(rf"{dossier}#notice$"))
    found = page.request.get(live_server.url("/api/v1/jurisdictions?q=Plumas&state=CA")).json()
    jurisdiction_id = found["items"][0]["id"]
    sent = page.request.get(
        live_server.url(f"/api/v1/letters?jurisdiction_id={jurisdiction_id}")
    ).json()
    assert sent["total"] == 2  # two letters, not four
    assert all(x["body"].startswith("To ") for x in sent["items"])  # in English

    page.goto(live_server.url(f"/letters/{sent['items'][0]['id']}"))
    expect(page.locator("article.letter")).to_contain_text("Sincerely,")
    page.get_by_role("link", name="Leer en español").click()
    expect(page.locator(".translation-note")).to_have_text(
        "Traducción solo para leer, no la carta enviada: la carta se envió en inglés."
    )
    expect(page.locator("article.letter")).to_contain_text("Atentamente,")
    expect(page.locator("article.letter")).to_contain_text("A la atención de")
    assert (over := sideways(page)) <= 0, f"the translation {page.url} is {over} px too wide"
    page.screenshot(path=SCREENSHOTS / "letter-translation-es-phone.png", full_page=True)
