"""An organizer on a phone fixes a typo, an admin deletes and restores: in Chromium."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    SCREENSHOTS,
    AxeCheck,
    LiveServer,
    describe_violations,
    sideways,
)

DOSSIER = "/jurisdictions/ca-modoc-county"  # no campaign events in the shipped history


def vote_json(page: Page, live_server: LiveServer, vote_id: str) -> dict:
    answer = page.request.get(live_server.url(f"/api/v1/votes/{vote_id}"))
    assert answer.ok, answer.status
    found: dict = answer.json()
    return found


def test_on_a_phone_a_vote_is_edited_once_deleted_and_restored(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.organizer, next=DOSSIER)
    page.get_by_role("link", name="Log a vote").click()
    page.get_by_label("Who voted").fill("Board of Supervisors")
    page.get_by_label("Date").fill("2010-11-16")
    page.get_by_label("Outcome").select_option("passed")
    page.get_by_label("Measure").fill("Resolution 2010-4O")  # a typo: letter O for zero
    page.get_by_role("button", name="Save the vote").click()
    expect(page.locator(".flash")).to_have_text("The vote was logged.")
    logged = re.search(r"#vote-(\d+)$", page.url)
    assert logged, page.url
    vote_id = logged.group(1)

    page.get_by_role("link", name="Edit the vote of Nov 16, 2010").click()
    expect(page.locator("h1")).to_have_text("Edit the vote")
    expect(page.get_by_label("Measure")).to_have_value("Resolution 2010-4O")
    page.get_by_label("Measure").fill("Resolution 2010-40")
    assert (over := sideways(page)) <= 0, f"the vote's edit form {page.url} is {over} px too wide"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "edit-phone.png", full_page=True)
    page.get_by_role("button", name="Save the vote").dblclick()  # a double tap
    expect(page).to_have_url(
        re.compile(rf"{DOSSIER}#vote-{vote_id}$")
    )  # polls: the second tap may abort the first navigation
    expect(page.locator(f"#vote-{vote_id}")).to_contain_text("Resolution 2010-40")
    saved = vote_json(page, live_server, vote_id)
    assert saved["measure"] == "Resolution 2010-40" and saved["version"] == 2  # one change
    listed = page.request.get(
        live_server.url(f"/api/v1/votes?jurisdiction_id={saved['jurisdiction_id']}")
    ).json()
    assert listed["total"] == 1  # and no second vote

    page.goto(live_server.url("/logout"))
    page.get_by_role("button", name="Sign out").click()
    live_server.sign_in(page, live_server.admin, next=DOSSIER)
    page.get_by_role("link", name="Delete the vote of Nov 16, 2010").click()
    expect(page.locator("h1")).to_have_text("Delete this vote?")
    expect(page.locator("blockquote")).to_contain_text("Board of Supervisors")
    page.get_by_role("button", name="Delete the vote").click()
    expect(page.locator(".flash")).to_contain_text("The vote was deleted.")
    assert page.request.get(live_server.url(f"/api/v1/votes/{vote_id}")).status == 404

    page.get_by_role("button", name=f"Restore vote {vote_id}").click()
    expect(page.locator(".flash")).to_contain_text("The vote was restored")
    restored = re.search(r"#vote-(\d+)$", page.url)
    assert restored and int(restored.group(1)) > int(vote_id), page.url
    back = vote_json(page, live_server, restored.group(1))
    assert back["measure"] == "Resolution 2010-40" and back["held_on"] == "2010-11-16"
    expect(page.locator("#history")).to_be_visible()
    expect(page.get_by_text(re.compile(r"restored from entry \d+"))).to_be_visible()
    assert (over := sideways(page)) <= 0, f"the dossier {page.url} is {over} px too wide"


def test_the_edit_and_delete_pages_have_no_serious_accessibility_violations(
    page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    live_server.sign_in(page, live_server.admin, next="/jurisdictions/va-arlington-county")
    page.get_by_role("link", name=re.compile(r"^Edit the vote of ")).first.click()
    violations = axe(page)
    assert not violations, f"edit form: {describe_violations(violations)}"
    page.goto(live_server.url("/jurisdictions/va-arlington-county"))
    page.get_by_role("link", name=re.compile(r"^Delete the vote of ")).first.click()
    violations = axe(page)
    assert not violations, f"delete confirmation: {describe_violations(violations)}"
