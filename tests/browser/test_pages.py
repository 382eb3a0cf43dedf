"""The site in a real browser: the map, a county's page, an organizer on a phone, axe-core."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import AxeCheck, LiveServer, describe_violations


def test_the_map_draws_every_county(page: Page, live_server: LiveServer) -> None:
    page.goto("/")
    areas = page.locator("svg.map a path")
    expect(areas).to_have_count(3142)
    box = page.locator("svg.map").bounding_box()
    assert box and box["width"] > 600 and box["height"] > 350
    for fips in ("06085", "48201", "02016", "51610", "11001"):  # incl. the Aleutians, a tiny city
        shape = page.locator(f'svg.map a[href="/jurisdictions/{fips}"] path').bounding_box()
        assert shape and shape["width"] > 0 and shape["height"] > 0, fips


def test_clicking_a_county_opens_its_page(page: Page, live_server: LiveServer) -> None:
    page.goto("/")
    page.locator('svg.map a[href="/jurisdictions/06085"] path').click()
    expect(page).to_have_url(live_server.url("/jurisdictions/06085"))
    expect(page.locator("h1")).to_have_text("Santa Clara County")
    # Its 5–0 vote of 2010 was answered by ICE's letter of Aug 5, 2011, denying every opt-out.
    expect(page.locator(".reason").first).to_contain_text(
        "ICE Secure Communities announced on August 5, 2011"
    )


def test_an_organizer_on_a_phone_logs_a_campaign_and_the_map_changes(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    county = 'svg.map a[href="/jurisdictions/06041"] path'  # Marin County: no events yet
    page.goto("/")
    expect(page.locator(county)).to_have_class("s-no_action")

    live_server.sign_in(page, live_server.organizer, next="/jurisdictions/ca-marin-county")
    page.get_by_role("link", name="Log a vote").click()
    page.get_by_label("Who voted").fill("Board of Supervisors")
    # After the program's end (Nov 2014), so a campaign of its own, which no announcement of
    # the history answers.
    page.get_by_label("Date").fill("2025-11-16")
    page.get_by_label("Outcome").select_option("passed")
    page.get_by_label("Yes", exact=True).fill("5")
    page.get_by_label("No", exact=True).fill("0")
    page.get_by_role("button", name="Save the vote").click()
    expect(page.locator(".flash")).to_have_text("The vote was logged.")
    expect(page.locator(".reason")).to_contain_text("voted 5–0 to opt out")

    page.get_by_role("link", name="Log a letter").click()
    page.get_by_label("Sent to").select_option(label="ICE Secure Communities")
    page.get_by_label("Sent on").fill("2025-11-18")
    page.get_by_label("Purpose").select_option("opt_out_request")
    page.get_by_label("How").select_option("fax")
    page.get_by_role("button", name="Save the letter").click()
    expect(page.locator(".status")).to_contain_text("SIB/ICE notified")

    page.get_by_role("link", name="Log a response").click()
    page.get_by_label("From").select_option(label="ICE Secure Communities")
    page.get_by_label("Answers the letter").select_option(index=1)
    page.get_by_label("Received on").fill("2025-12-02")
    page.get_by_label("What it says").select_option("denied")
    page.get_by_role("button", name="Save the response").click()
    expect(page.locator(".status")).to_contain_text("Opt-out denied")

    page.goto("/")
    expect(page.locator(county)).to_have_class("s-denied")


def test_no_serious_accessibility_violations(
    page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    for path in ("/", "/jurisdictions/va-arlington-county", "/jurisdictions?state=CA"):
        page.goto(path)
        violations = axe(page)
        assert not violations, f"{path}: {describe_violations(violations)}"
    live_server.sign_in(
        page, live_server.organizer, next="/jurisdictions/ca-alameda-county/log/letter"
    )
    violations = axe(page)
    assert not violations, f"letter form: {describe_violations(violations)}"
