"""The map stepped through time in chromium: the plain links and the slider (static/map.js)
show the same map for the same day, on both layers; axe-core stays clean on a rollout map."""

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import SCREENSHOTS, AxeCheck, LiveServer, describe_violations

MID_2011 = "2011-06-30"


def count(shown: str) -> int:
    """A legend's count as English writes it (3,142)."""
    return int(shown.replace(",", ""))


def painted(page: Page) -> dict[str, Any]:
    """Every area's class and title, the legend's counts and the day the page says."""
    return page.evaluate(
        """() => ({
            areas: Array.from(document.querySelectorAll('svg.map a > path')).map(
                p => [p.parentNode.getAttribute('href'), p.getAttribute('class'),
                      p.querySelector('title').textContent]),
            counts: Object.fromEntries(Array.from(document.querySelectorAll('[data-key]')).map(
                el => [el.dataset.key, el.textContent])),
            despite: Array.from(document.querySelectorAll('[data-despite]')).map(
                el => el.textContent),
            day: Array.from(document.querySelectorAll('[data-as-of-label]')).map(
                el => el.textContent),
        })"""
    )


def slide_to(page: Page, day: str) -> None:
    """Move the slider to the step of `day` as a person does: focus it and press keys."""
    index = page.eval_on_selector_all(
        "nav.steps a[data-as-of]", f"(links) => links.findIndex(a => a.dataset.asOf === '{day}')"
    )
    assert index >= 0, f"{day} is not a step"
    slider = page.get_by_label("Day", exact=True)
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('svg.map').dataset.asOf")
    for _ in range(index):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('svg.map').dataset.asOf === '{day}'")


# Each group opens one page, in turn with each view of it: one browser context and one
# teardown screenshot for the group rather than one per view.
@pytest.mark.parametrize(
    "paths",
    [["/?layer=rollout", "/", "/?view=states&layer=rollout"], ["/states/CA"]],
    ids=["map", "state"],
)
def test_the_slider_shows_what_the_links_show(
    page: Page, live_server: LiveServer, paths: list[str]
) -> None:
    for path in paths:
        sep = "&" if "?" in path else "?"
        page.goto(f"{path}{sep}as_of={MID_2011}")
        linked = painted(page)
        assert linked["day"] and set(linked["day"]) == {"Jun 30, 2011"}, path
        page.goto(path)
        today = painted(page)
        slide_to(page, MID_2011)
        slid = painted(page)
        assert slid == linked, path
        assert slid != today, path  # the story moved on since mid-2011
        assert f"as_of={MID_2011}" in page.url, path  # the address is the link to share


def test_the_rollout_spreads_and_names_activation_despite_opting_out(
    page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page.goto(f"/?layer=rollout&as_of={MID_2011}")
    mid = painted(page)
    activated = count(mid["counts"]["r-activated"]) + count(
        mid["counts"]["r-activated_despite_opt_out"]
    )
    assert 0 < activated < 3142
    sf = next(a for a in mid["areas"] if a[0] == "/jurisdictions/06075")
    assert sf[1:] == [
        "r-activated_despite_opt_out",
        "San Francisco County, CA: Activated despite opt-out",
    ]
    page.screenshot(path=str(SCREENSHOTS / "rollout-2011-06-30.png"), full_page=True)
    violations = axe(page)
    assert not violations, describe_violations(violations)
    page.goto("/?layer=rollout&as_of=2014-11-20")
    later = painted(page)
    assert count(later["counts"]["r-not_activated"]) < count(mid["counts"]["r-not_activated"])


def test_without_scripts_the_days_are_plain_links(live_server: LiveServer, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=live_server.base_url)
    page = context.new_page()
    try:
        page.goto("/?layer=rollout")
        assert page.locator("input[type=range]").count() == 0
        with page.expect_navigation():
            page.get_by_role("link", name="Jun 2011").click()
        page.wait_for_load_state()
        assert f"as_of={MID_2011}" in page.url
        assert set(painted(page)["day"]) == {"Jun 30, 2011"}
    finally:
        context.close()
