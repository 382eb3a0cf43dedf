"""The national timeline's chart: counties activated per month (bars) and in total (a line),
with announcements and campaign events marked on the same time axis, as SVG markup.

Pure: months and marks in, markup out (its words in the language of the answer being made);
the caller gives every link. Drawn on the server, so
it needs no script; each month and each mark is a link with a title, and the page's table
says the same in words. Marks differ by shape and fill, never by colour alone.
"""

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from markupsafe import Markup, escape

from .i18n import N_, gettext, ngettext
from .wording import month, number

Row = Literal["announcement", "event"]

# The drawing's own units; CSS scales it to the page's width (text sizes are set in
# site.css, larger on a phone, so the layout keeps room for the larger).
WIDTH = 640
LEFT, RIGHT = 8, 8
LABEL = 24  # a band's heading line
LANE = 11  # one lane of marks
MAX_LANES = 8  # marks stacked deeper than this overlap
RADIUS = 4
TOTAL_HEIGHT = 120  # the cumulative line's band
MONTH_HEIGHT = 80  # the monthly bars' band
AXIS = 28  # the years under the bars
YEAR_LABEL = 48  # the room a year's label takes at a phone's text size


@dataclass(frozen=True)
class Month:
    """One month of the axis: the areas activated in it and in total by its end."""

    start: date  # its first day
    activated: int
    total: int
    href: str  # the map as of its last day

    @property
    def end(self) -> date:
        return month_end(self.start)

    @property
    def label(self) -> str:
        return month(self.start)


@dataclass(frozen=True)
class Mark:
    """An announcement or a campaign event on its row, at its date."""

    on: date
    row: Row
    title: str
    href: str
    filled: bool  # a national announcement, or an event that sets a stage
    turning: bool = False  # an announcement that changed campaigns: a line across the chart


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def months(
    per_month: Mapping[date, int], span: tuple[date, date] | None, link: Callable[[date], str]
) -> list[Month]:
    """Every month from the first of `span` and `per_month` (first days of months) to the
    last, with its activations and the running total; `link` gives the link of a month's
    last day."""
    dates = [*per_month, *(span or ())]
    if not dates:
        return []
    found, d, last = [], month_start(min(dates)), month_start(max(dates))
    total = 0
    while d <= last:
        total += per_month.get(d, 0)
        found.append(Month(d, per_month.get(d, 0), total, link(month_end(d))))
        d = _next_month(d)
    return found


def _nice_top(value: int) -> int:
    """The axis's top: the smallest round number at or above `value` (at least 2) whose half
    is round too (2, 4, 6, 8 or 10 × 10ⁿ)."""
    step = 1
    while True:
        for m in (2, 4, 6, 8, 10):
            if m * step >= value:
                return m * step
        step *= 10


def _fmt(n: float) -> str:
    return f"{n:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class _Axis:
    first: date
    count: int  # months

    @property
    def month_width(self) -> float:
        return (WIDTH - LEFT - RIGHT) / self.count

    def x(self, d: date) -> float:
        """Where a day falls: its month's slot, and its day within it."""
        index = (d.year - self.first.year) * 12 + d.month - self.first.month
        days = calendar.monthrange(d.year, d.month)[1]
        return LEFT + (index + (d.day - 0.5) / days) * self.month_width

    def slot(self, index: int) -> float:
        return LEFT + index * self.month_width


def _lanes(marks: list[Mark], axis: _Axis) -> list[tuple[Mark, float, int]]:
    """Each mark with its x and a lane, so that marks close in time stack rather than hide
    each other (the lowest lane free at that x; past MAX_LANES, the least crowded)."""
    ends: list[float] = []
    placed = []
    for mark in sorted(marks, key=lambda m: m.on):
        x = axis.x(mark.on)
        free = [i for i, end in enumerate(ends) if end <= x - 2 * RADIUS - 1]
        if free:
            lane = free[0]
        elif len(ends) < MAX_LANES:
            lane = len(ends)
            ends.append(0.0)
        else:
            lane = min(range(len(ends)), key=lambda i: ends[i])
        ends[lane] = x
        placed.append((mark, x, lane))
    return placed


def _shape(mark: Mark, x: float, y: float) -> str:
    """A diamond for an announcement, a circle for an event; filled or hollow; a link."""
    fill = "filled" if mark.filled else "hollow"
    title = f"<title>{escape(mark.title)}</title>"
    if mark.row == "announcement":
        r = RADIUS + 0.8
        corners = ((x, y - r), (x + r, y), (x, y + r), (x - r, y))
        points = " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in corners)
        shape = f'<polygon class="mark {fill}" points="{points}">{title}</polygon>'
    else:
        at = f'cx="{_fmt(x)}" cy="{_fmt(y)}" r="{RADIUS}"'
        shape = f'<circle class="mark {fill}" {at}>{title}</circle>'
    return f'<a href="{escape(mark.href)}">{shape}</a>'


def _band_label(y: float, text: str) -> str:
    return f'<text class="band" x="{LEFT}" y="{_fmt(y + LABEL - 8)}">{escape(text)}</text>'


def _line(css: str, x1: float, x2: float, y1: float, y2: float) -> str:
    return f'<line class="{css}" x1="{_fmt(x1)}" x2="{_fmt(x2)}" y1="{_fmt(y1)}" y2="{_fmt(y2)}"/>'


# Each row's heading, and what it says when the row has no mark.
ROW_NAMES: dict[Row, tuple[str, str]] = {
    "announcement": (N_("Announcements"), N_("Announcements: none")),
    "event": (N_("Campaign events"), N_("Campaign events: none")),
}


def _marks(axis: _Axis, marks: list[Mark], parts: list[str]) -> tuple[float, list[float]]:
    """The rows of marks from the top: how deep they go, and where the turning lines are."""
    y, turning = 0.0, []
    for row, (name, none) in ROW_NAMES.items():
        placed = _lanes([m for m in marks if m.row == row], axis)
        parts.append(_band_label(y, gettext(name if placed else none)))
        y += LABEL
        for mark, x, lane in placed:
            parts.append(_shape(mark, x, y + lane * LANE + LANE / 2))
            if mark.turning:
                turning.append(x)
        y += max((lane + 1 for *_, lane in placed), default=0) * LANE + 4
    return y, turning


def _total(axis: _Axis, months: list[Month], top: float, parts: list[str]) -> float:
    """The running total from `top`: a line through each month's end over a light area."""
    parts.append(_band_label(top, gettext("Counties activated in total")))
    bottom = top + LABEL + TOTAL_HEIGHT
    most = _nice_top(months[-1].total)
    points = [(axis.slot(0), months[0].total - months[0].activated)]
    points += [(axis.slot(i + 1), m.total) for i, m in enumerate(months)]
    line = " ".join(
        f"{'L' if i else 'M'}{_fmt(x)},{_fmt(bottom - v * TOTAL_HEIGHT / most)}"
        for i, (x, v) in enumerate(points)
    )
    down = f"L{_fmt(points[-1][0])},{_fmt(bottom)} L{_fmt(points[0][0])},{_fmt(bottom)}Z"
    parts.append(f'<path class="total-area" d="{line} {down}"/>')
    parts.append(_gridlines(bottom - TOTAL_HEIGHT, bottom, most))
    parts.append(f'<path class="total" d="{line}"/>')
    return bottom


def _bars(axis: _Axis, months: list[Month], top: float, parts: list[str]) -> float:
    """The activations of each month from `top`: a bar each, on a baseline."""
    parts.append(_band_label(top, gettext("Activated that month")))
    bottom = top + LABEL + MONTH_HEIGHT
    most = _nice_top(max(m.activated for m in months))
    parts.append(_gridlines(bottom - MONTH_HEIGHT, bottom, most))
    width = axis.month_width
    for i, m in enumerate(months):
        if m.activated:
            h = m.activated * MONTH_HEIGHT / most
            x = axis.slot(i) + width * 0.12
            parts.append(
                f'<rect class="bar" x="{_fmt(x)}" y="{_fmt(bottom - h)}" '
                f'width="{_fmt(width * 0.76)}" height="{_fmt(h)}"/>'
            )
    parts.append(_line("baseline", LEFT, WIDTH - RIGHT, bottom, bottom))
    return bottom


def _years(axis: _Axis, months: list[Month], bottom: float) -> list[str]:
    """A faint line at each January across the chart; each year under the bars where its
    months on the axis leave room for its label (a phone's larger text included)."""
    parts = []
    for i, m in enumerate(months):
        if m.start.month == 1:
            parts.append(_line("year", axis.slot(i), axis.slot(i), 0, bottom + 6))
        room = min(13 - m.start.month, len(months) - i) * axis.month_width
        if (m.start.month == 1 or i == 0) and room >= YEAR_LABEL:
            at = f'x="{_fmt(axis.slot(i) + 2)}" y="{_fmt(bottom + AXIS - 6)}"'
            parts.append(f'<text class="axis" {at}>{m.start.year}</text>')
    return parts


def svg(months: list[Month], marks: Iterable[Mark], *, title: str, description: str) -> Markup:
    """The chart: the rows of marks on top, the running total, the monthly bars, the years.

    Every month is a link (its whole column) titled with its figures; every mark a link
    titled with what happened."""
    head = (
        f'<title id="timeline-chart-title">{escape(title)}</title>'
        f'<desc id="timeline-chart-desc">{escape(description)}</desc>'
    )
    opening = (
        '<svg class="timeline-chart" viewBox="0 0 {w} {h}" role="group" '
        'aria-labelledby="timeline-chart-title" aria-describedby="timeline-chart-desc">'
    )
    if not months:
        empty = gettext("Nothing dated yet: no activation, announcement or campaign event.")
        text = f'<text class="band" x="{LEFT}" y="34">{escape(empty)}</text>'
        return Markup(opening.format(w=WIDTH, h=60) + head + text + "</svg>")
    axis = _Axis(months[0].start, len(months))
    parts: list[str] = []
    shown = [m for m in marks if months[0].start <= m.on <= months[-1].end]
    y, turning = _marks(axis, shown, parts)
    columns_top = y + LABEL
    y = _total(axis, months, y, parts) + 8
    bottom = _bars(axis, months, y, parts)
    # Announcements that changed campaigns: a dashed line from their row down the chart.
    lines = [_line("turning", x, x, LABEL, bottom) for x in turning]
    # Each month's column, a link over its line and bar: the map as of its last day.
    columns = [
        f'<a href="{escape(m.href)}"><rect class="hit" x="{_fmt(axis.slot(i))}" '
        f'y="{_fmt(columns_top)}" width="{_fmt(axis.month_width)}" '
        f'height="{_fmt(bottom - columns_top)}"><title>{escape(month_title(m))}</title></rect></a>'
        for i, m in enumerate(months)
    ]
    body = "".join([*_years(axis, months, bottom), *lines, *parts, *columns])
    return Markup(opening.format(w=WIDTH, h=_fmt(bottom + AXIS)) + head + body + "</svg>")


def month_title(m: Month) -> str:
    """A month's figures in words: 'Oct 2008: 14 counties activated, 14 in total'."""
    return ngettext(
        "{month}: {activated} county activated, {total} in total",
        "{month}: {activated} counties activated, {total} in total",
        m.activated,
    ).format(month=m.label, activated=number(m.activated), total=number(m.total))


def _gridlines(top: float, bottom: float, most: int) -> str:
    """Lines at 0, half and the top of a band, labelled inside the band (a halo keeps the
    label readable over the bars)."""
    parts = []
    for value in (most // 2, most):
        y = bottom - (bottom - top) * value / most
        parts.append(
            _line("grid", LEFT, WIDTH - RIGHT, y, y)
            + f'<text class="tick" x="{WIDTH - RIGHT}" y="{_fmt(y - 3)}">{number(value)}</text>'
        )
    return "".join(parts)
