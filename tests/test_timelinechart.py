"""The national timeline's chart, pure: months and their totals, marks, links, titles, and
an empty story."""

import re
import xml.etree.ElementTree as ET
from datetime import date

from optout_tracker import timelinechart
from optout_tracker.timelinechart import Mark, Month, Row

SVG = "{http://www.w3.org/2000/svg}"


def link(d: date) -> str:
    return f"/?as_of={d.isoformat()}&layer=rollout"


def parsed(markup: str) -> ET.Element:
    """The chart as XML (it must be well-formed), in the SVG namespace as a browser reads it."""
    return ET.fromstring(
        str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


def links(root: ET.Element) -> list[tuple[str, str]]:
    """Every link of the chart: its target and the title of what it wraps."""
    found = []
    for a in root.iter(f"{SVG}a"):
        title = a.find(f".//{SVG}title")
        assert title is not None and title.text, "every link has a title"
        found.append((a.attrib["href"], title.text))
    return found


def test_months_run_from_the_first_to_the_last_with_empty_months_and_running_totals() -> None:
    per_month = {date(2008, 10, 1): 14, date(2009, 1, 1): 5, date(2009, 2, 1): 1}
    months = timelinechart.months(per_month, (date(2008, 10, 27), date(2009, 2, 3)), link)
    assert [(m.start, m.activated, m.total) for m in months] == [
        (date(2008, 10, 1), 14, 14),
        (date(2008, 11, 1), 0, 14),
        (date(2008, 12, 1), 0, 14),
        (date(2009, 1, 1), 5, 19),
        (date(2009, 2, 1), 1, 20),
    ]
    # Each month links to the map as of its last day (a leap year's February too).
    assert months[1].href == "/?as_of=2008-11-30&layer=rollout"
    assert months[-1].end == date(2009, 2, 28) and months[-1].label == "Feb 2009"
    leap = timelinechart.months({date(2012, 2, 1): 3}, None, link)
    assert [(m.href, m.total) for m in leap] == [("/?as_of=2012-02-29&layer=rollout", 3)]


def test_the_span_stretches_the_axis_beyond_the_activations() -> None:
    """Announcements after the last activation (the program's end) stay on the axis."""
    months = timelinechart.months(
        {date(2013, 1, 1): 2}, (date(2012, 11, 5), date(2013, 3, 1)), link
    )
    assert [m.label for m in months] == ["Nov 2012", "Dec 2012", "Jan 2013", "Feb 2013", "Mar 2013"]
    assert [m.total for m in months] == [0, 0, 2, 2, 2]


def test_every_month_is_a_link_titled_with_its_figures() -> None:
    months = timelinechart.months({date(2010, 3, 1): 1, date(2010, 5, 1): 120}, None, link)
    root = parsed(timelinechart.svg(months, [], title="Counties", description="In words."))
    assert links(root) == [
        ("/?as_of=2010-03-31&layer=rollout", "Mar 2010: 1 county activated, 1 in total"),
        ("/?as_of=2010-04-30&layer=rollout", "Apr 2010: 0 counties activated, 1 in total"),
        ("/?as_of=2010-05-31&layer=rollout", "May 2010: 120 counties activated, 121 in total"),
    ]
    # Named and described for assistive technology.
    assert root.attrib["role"] == "group"
    assert root.attrib["aria-labelledby"] == root.find(f"{SVG}title").attrib["id"]  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "In words."  # type: ignore[union-attr]
    # A bar for each month with activations, none for an empty one; taller for more.
    bars = [
        float(r.attrib["height"]) for r in root.iter(f"{SVG}rect") if "bar" in r.attrib["class"]
    ]
    assert len(bars) == 2 and bars[1] > bars[0] * 50
    # The axis's top is a round number above the most: 200 (ticks at 100 and 200).
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "tick"]
    assert ticks == ["100", "200", "100", "200"]


def test_marks_are_links_told_apart_by_shape_and_fill() -> None:
    months = timelinechart.months(
        {date(2011, 8, 1): 10}, (date(2010, 9, 1), date(2011, 8, 31)), link
    )

    def at(on: date, row: Row, title: str, filled: bool, turning: bool = False) -> Mark:
        return Mark(on, row, title, f"/?as_of={on}", filled=filled, turning=turning)

    marks = [
        at(date(2011, 8, 5), "announcement", "ICE: participation is mandatory", True, True),
        at(date(2011, 5, 4), "announcement", "Illinois withdraws", False),
        at(date(2010, 9, 28), "event", "Santa Clara County voted 5–0 to opt out", True),
        at(date(2010, 9, 28), "event", "Arlington County voted to opt out", True),
        at(date(2011, 1, 10), "event", "A related measure", False),
    ]
    root = parsed(timelinechart.svg(months, marks, title="t", description="d"))
    found = dict(links(root))
    assert found["/?as_of=2011-08-05"] == "ICE: participation is mandatory"
    assert len([href for href, _ in links(root) if href == "/?as_of=2010-09-28"]) == 2
    diamonds = [p.attrib["class"] for p in root.iter(f"{SVG}polygon")]
    circles = list(root.iter(f"{SVG}circle"))
    assert sorted(diamonds) == ["mark filled", "mark hollow"]
    assert sorted(c.attrib["class"] for c in circles) == ["mark filled"] * 2 + ["mark hollow"]
    # Two events of one day stack in two lanes rather than hide each other.
    same_day = [c for c in circles if "opt out" in (c.findtext(f"{SVG}title") or "")]
    assert len({c.attrib["cx"] for c in same_day}) == 1
    assert len({c.attrib["cy"] for c in same_day}) == 2
    # Only the announcement that changed campaigns draws a line down the chart.
    turning = [x for x in root.iter(f"{SVG}line") if x.attrib["class"] == "turning"]
    assert len(turning) == 1
    ice = root.find(f".//{SVG}polygon[@class='mark filled']")
    assert ice is not None
    assert turning[0].attrib["x1"] == ice.attrib["points"].split()[0].split(",")[0]
    # Later in time is further right.
    x = {c.findtext(f"{SVG}title"): float(c.attrib["cx"]) for c in circles}
    assert x["Santa Clara County voted 5–0 to opt out"] < x["A related measure"]


def test_titles_and_links_are_escaped() -> None:
    months = timelinechart.months(
        {date(2010, 1, 1): 1}, None, lambda d: f"/?as_of={d}&layer=rollout"
    )
    marks = [Mark(date(2010, 1, 5), "event", 'Board said "no" <b>', "/?a=1&b=2", filled=True)]
    markup = timelinechart.svg(months, marks, title="A & B", description="<d>")
    assert "<b>" not in markup and "&amp;layer=rollout" in markup
    root = parsed(markup)
    assert ("/?a=1&b=2", 'Board said "no" <b>') in links(root)


def test_an_empty_story_draws_a_sentence_not_an_axis() -> None:
    assert timelinechart.months({}, None, link) == []
    root = parsed(timelinechart.svg([], [], title="Nothing yet", description="No dates."))
    assert root.findtext(f"{SVG}title") == "Nothing yet"
    assert "Nothing dated yet" in "".join(root.itertext())
    assert list(root.iter(f"{SVG}a")) == [] and list(root.iter(f"{SVG}rect")) == []


def test_a_month_title_in_words() -> None:
    m = Month(date(2012, 5, 1), 1339, 2800, "/x")
    assert timelinechart.month_title(m) == "May 2012: 1,339 counties activated, 2,800 in total"


def test_the_years_are_labelled_where_there_is_room() -> None:
    """On a short axis even two months leave room for a year's label; on a long one, the
    first three months of an axis (Oct 2008) and its last two (2014) do not."""
    for last, labelled in [
        (date(2010, 2, 1), ["2008", "2009", "2010"]),
        (date(2014, 2, 1), ["2009", "2010", "2011", "2012", "2013"]),
    ]:
        months = timelinechart.months({}, (date(2008, 10, 1), last), link)
        root = parsed(timelinechart.svg(months, [], title="t", description="d"))
        years = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "axis"]
        assert years == labelled
        assert re.fullmatch(r"0 0 640 [\d.]+", root.attrib["viewBox"])
        # Without marks, each row says it has none.
        bands = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "band"]
        assert bands[:2] == ["Announcements: none", "Campaign events: none"]
