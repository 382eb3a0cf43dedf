"""A Spanish-speaking organizer on a phone: one tap on "Español" turns the site to Spanish
(the map, a dossier, the sign-in and vote forms), axe finds nothing serious with
lang="es", and one tap on "English" turns it back."""

from playwright.sync_api import Page, expect

from optout_tracker.enums import Role
from tests.browser.conftest import (
    SCREENSHOTS,
    AxeCheck,
    LiveServer,
    describe_violations,
    save_screenshot,
    sideways,
)

DOSSIER = "/jurisdictions/ca-santa-clara-county"


def test_on_a_phone_spanish_is_one_tap_away_and_so_is_english(
    phone_page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page = phone_page
    page.goto(live_server.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Campañas para excluirse de Comunidades Seguras")
    _checked(page, axe, "spanish-map-phone")

    page.goto(live_server.url(DOSSIER))  # the cookie keeps the language
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Cronología")).to_be_visible()
    expect(page.locator("body")).to_contain_text("votó 5–0 a favor de excluirse")
    _checked(page, axe, "spanish-dossier-phone")

    page.goto(live_server.url(f"/login?next={DOSSIER}"))
    page.get_by_role("button", name="Iniciar sesión").click()  # as it comes: empty
    expect(page.locator("html")).to_have_attribute("lang", "es")
    organizer = live_server.new_account(Role.organizer)  # its language is kept: its own
    page.get_by_label("Correo electrónico").fill(organizer.email)
    page.get_by_label("Contraseña").fill(organizer.password)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(live_server.url(DOSSIER))
    page.get_by_role("link", name="Registrar una votación").click()
    expect(page.get_by_label("Quién votó")).to_be_visible()
    _checked(page, axe, "spanish-vote-form-phone")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_label("Who voted")).to_be_visible()


def _checked(page: Page, axe: AxeCheck, name: str) -> None:
    """No serious accessibility violation, nothing wider than the phone, and a screenshot."""
    violations = axe(page)
    assert not violations, f"{page.url}: {describe_violations(violations)}"
    assert (over := sideways(page)) <= 0, f"{page.url} is {over} px too wide"
    save_screenshot(page, SCREENSHOTS / f"{name}.png")
