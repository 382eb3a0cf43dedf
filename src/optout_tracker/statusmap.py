"""The status map: counties or states coloured by campaign status, as SVG markup, drawn
once per change of the data (the outlines come from mapsvg.py, the statuses from the
caller)."""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

from .enums import STATE_LEVEL, STATUS_LABELS, CampaignStatus
from .mapsvg import MapShapes
from .schemas import FipsStatus

View = Literal["counties", "states"]


@dataclass(frozen=True)
class Shape:
    """One area on the map: its outline, where it links, what its tooltip says."""

    d: str
    href: str | None
    status: CampaignStatus
    title: str


@dataclass(frozen=True)
class DrawnMap:
    """The map's SVG, and how many of its areas have each status (for the legend)."""

    svg: Markup
    counts: dict[CampaignStatus, int]


def shapes(view: View, outlines: MapShapes, rows: Iterable[FipsStatus]) -> list[Shape]:
    """Join the outlines to the campaign status by FIPS, the way partners do with by-fips."""
    if view == "states":
        by_code = {r.fips[:2]: r for r in rows if r.kind in STATE_LEVEL}
        return [_shape(d, by_code.get(code)) for code, d in outlines.states.items()]
    by_fips = {r.fips: r for r in rows}
    return [_shape(d, by_fips.get(fips)) for fips, d in outlines.counties.items()]


def _shape(d: str, row: FipsStatus | None) -> Shape:
    if row is None:  # on the map, but not (or no longer) in the database
        return Shape(d, None, CampaignStatus.no_action, "Not tracked")
    title = f"{row.name}, {row.state}: {STATUS_LABELS[row.status]}"
    # Linked by FIPS, not slug: 3,142 short links keep the map page near the outlines' size.
    return Shape(d, f"/jurisdictions/{row.fips}", row.status, title)


def svg(outlines: MapShapes, shapes: list[Shape], label: str, new_tab: bool = False) -> Markup:
    """The map as SVG markup: each area a link with a title, the borders on top.

    Built here rather than in a template loop: 3,142 areas render ten times faster.
    """
    target = ' target="_blank"' if new_tab else ""
    parts = [
        f'<svg class="map" viewBox="{outlines.view_box_attr}" role="group" '
        f'aria-labelledby="map-label"><title id="map-label">{escape(label)}</title>'
    ]
    for s in shapes:
        area = f'<path class="s-{s.status.value}" d="{s.d}"><title>{escape(s.title)}</title></path>'
        parts.append(f'<a href="{escape(s.href)}"{target}>{area}</a>' if s.href else area)
    parts.append(f'<path class="borders" d="{outlines.borders}"/></svg>')
    return Markup("".join(parts))


def _counts(shapes: list[Shape]) -> dict[CampaignStatus, int]:
    counts = dict.fromkeys(CampaignStatus, 0)
    for shape in shapes:
        counts[shape.status] += 1
    return counts


# Drawn maps by (view, area, label, tab, data version): a few dozen entries at most. The
# version comes from the database, so every process sees a change at once.
_drawn: dict[tuple[Hashable, ...], DrawnMap] = {}


def draw(
    view: View,
    outlines: MapShapes,
    statuses: Callable[[], Iterable[FipsStatus]],
    *,
    label: str,
    version: Hashable,
    area: str | None = None,
    new_tab: bool = False,
) -> DrawnMap:
    """The map of `outlines` (those of `area`, or of the country), coloured by `statuses`,
    which are read only when this `version` of the data has not been drawn yet."""
    key = (view, area, label, new_tab, version)
    if (drawn := _drawn.get(key)) is None:
        found = shapes(view, outlines, statuses())
        drawn = DrawnMap(svg(outlines, found, label, new_tab), _counts(found))
        if len(_drawn) > 64:
            _drawn.clear()
        _drawn[key] = drawn
    return drawn
