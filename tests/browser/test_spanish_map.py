"""The home map in Spanish on a phone (issue 17): the legend, the titles and the counts in
Spanish, still when a step of the map's days repaints it (static/map.js takes its words from
the page and its formats from Intl); axe-core clean with lang="es"."""

import re

from playwright.sync_api import Page

from optout_tracker.enums import ROLLOUT_LABELS, STATUS_LABELS
from tests.browser.conftest import SCREENSHOTS, AxeCheck, LiveServer, describe_violations
from tests.browser.test_rollout_map import MID_2011, painted

ENGLISH_LABELS = [*STATUS_LABELS.values(), *ROLLOUT_LABELS.values()]


def no_english(shown: dict) -> None:
    titles = [title for *_, title in shown["areas"]]
    for label in ENGLISH_LABELS:
        assert not any(title.endswith(f": {label}") for title in titles), label
    assert not any("activated despite opt-out" in title for title in titles)


def step_to(page: Page, day: str) -> None:
    """A tap on the step of `day`: static/map.js repaints the map (one day's fetch, where the
    slider's keys fetch each day on the way; a busy machine takes seconds for each)."""
    page.locator(f'nav.steps a[data-as-of="{day}"]').click()
    page.wait_for_function(f"() => document.querySelector('svg.map').dataset.asOf === '{day}'")


def test_the_home_map_in_spanish_on_a_phone(
    phone_page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page = phone_page
    page.goto("/?lang=es")
    assert page.evaluate("document.documentElement.lang") == "es"
    legend = page.locator("table.legend")
    assert "Campaña que cubre cada zona" in legend.inner_text()
    assert legend.get_by_role("rowheader", name="Exclusión denegada").count() == 1
    label = page.locator("#map-label").text_content() or ""
    assert label.startswith("Mapa de los condados de EE. UU."), label
    today = painted(page)
    no_english(today)
    assert any(title.endswith(": Sin acción") for *_, title in today["areas"])
    # A count of thousands as Spanish writes it (the counties with no campaign of their own).
    assert re.fullmatch(r"\d\.\d{3}", today["counts"]["s-no_action"]), today["counts"]

    page.screenshot(path=SCREENSHOTS / "home-map-es-phone.png")
    assert not (v := axe(page)), describe_violations(v)

    # The slider, labelled in Spanish; a step repaints in Spanish: the day, the titles, the
    # counts' thousands.
    assert page.get_by_label("Día", exact=True).is_visible()
    step_to(page, MID_2011)
    slid = painted(page)
    assert set(slid["day"]) == {"30 jun 2011"}, slid["day"]
    no_english(slid)
    assert re.fullmatch(r"\d\.\d{3}", slid["counts"]["s-no_action"]), slid["counts"]
    # The same as the link to that day draws on the server.
    page.goto(f"/?as_of={MID_2011}")  # the language is kept (its cookie)
    assert painted(page) == slid
