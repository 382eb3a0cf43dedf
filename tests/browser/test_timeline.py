"""/timeline in chromium: axe-core clean on a desktop and a phone, no sideways scrolling on
the phone, and a month's link lands on the rollout map as of its last day."""

import re

from playwright.sync_api import Page

from tests.browser.conftest import SCREENSHOTS, AxeCheck, LiveServer, describe_violations


def no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert wide[0] <= wide[1], f"the page scrolls sideways: {wide}"


def test_the_timeline_is_axe_clean_and_its_months_agree_with_the_chart(
    page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    page.goto("/timeline")
    chart = page.locator("svg.timeline-chart")
    assert chart.is_visible() and chart.bounding_box()["width"] > 600  # type: ignore[index]
    rows = page.eval_on_selector_all(
        "table.months tbody tr",
        "(rows) => rows.map(r => [...r.children].slice(0, 3).map(c => c.textContent.trim()))",
    )
    titles = page.eval_on_selector_all(
        "svg.timeline-chart rect.hit title", "(ts) => ts.map(t => t.textContent)"
    )
    assert len(rows) == len(titles) > 12
    for (month, activated, total), title in zip(rows, titles, strict=True):
        noun = "county" if activated == "1" else "counties"
        assert title == f"{month}: {activated} {noun} activated, {total} in total"
    counts = [int(a.replace(",", "")) for _, a, _ in rows]
    assert int(rows[-1][2].replace(",", "")) == sum(counts) > 3000  # the shipped rollout
    page.screenshot(path=str(SCREENSHOTS / "timeline.png"), full_page=True)
    violations = axe(page)
    assert not violations, describe_violations(violations)
    no_sideways_scroll(page)


def test_on_a_phone_the_chart_scales_and_the_table_scrolls_in_its_box(
    phone_page: Page, live_server: LiveServer, axe: AxeCheck
) -> None:
    phone_page.goto("/timeline")
    no_sideways_scroll(phone_page)
    box = phone_page.locator("svg.timeline-chart").bounding_box()
    assert box is not None and box["width"] <= 390
    region = phone_page.locator(".table-scroll")
    inner = region.evaluate(
        "(el) => [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight]"
    )
    assert inner[2] > inner[3]  # the months scroll inside their own box
    phone_page.screenshot(path=str(SCREENSHOTS / "timeline-phone.png"), full_page=False)
    violations = axe(phone_page)
    assert not violations, describe_violations(violations)


def test_a_month_and_a_mark_lead_to_the_map_as_of_their_date(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/timeline")
    with page.expect_navigation():
        page.locator("table.months").get_by_role("link", name="Jun 2011", exact=True).click()
    assert page.url.endswith("/?as_of=2011-06-30&layer=rollout")
    assert set(page.locator("[data-as-of-label]").all_text_contents()) == {"Jun 30, 2011"}
    assert page.locator('svg.map[data-layer="rollout"]').count() == 1

    page.goto("/timeline")
    column = page.locator('svg.timeline-chart a[href="/?as_of=2010-06-30&layer=rollout"] rect')
    with page.expect_navigation():
        column.click()
    assert page.url.endswith("/?as_of=2010-06-30&layer=rollout")

    page.goto("/timeline")
    mark = page.locator("svg.timeline-chart .mark").first
    href = mark.locator("xpath=..").get_attribute("href")
    assert href and re.fullmatch(r"/\?as_of=\d{4}-\d{2}-\d{2}", href)
    with page.expect_navigation():
        mark.click()
    day = href.removeprefix("/?as_of=")
    assert page.url.endswith(href) and page.locator("svg.map").count() == 1
    assert page.locator("[data-as-of-label]").first.text_content() != ""
    assert day in page.url
