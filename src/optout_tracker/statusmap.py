"""The status map: counties or states drawn by a layer (the campaign covering each, or the
program's rollout) as SVG markup, once per change of the data and day (the outlines come
from mapsvg.py, the statuses from the caller).

Every area's class names its category; a category is told apart by more than its colour
(a hatch for what comes through the state, a pattern for activation despite opting out),
and the legend beside the map is a table of the same categories and counts.
"""

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

from . import i18n
from .data_version import Kept
from .enums import (
    ROLLOUT_LABELS,
    STATE_LEVEL,
    STATUS_LABELS,
    CampaignStatus,
    EffectiveVia,
    Rollout,
)
from .i18n import N_, gettext
from .mapsvg import MapShapes
from .schemas import FipsStatus

View = Literal["counties", "states"]
Layer = Literal["campaign", "rollout"]
LAYERS: tuple[Layer, ...] = ("campaign", "rollout")


@dataclass(frozen=True)
class Category:
    """One kind of area on a layer: its class on the map and its words in the legend (kept
    as the catalog's message, said in the language of the answer that shows it)."""

    key: str
    message: str
    through_state: bool = False  # its state's campaign covers it (hatched)

    @property
    def label(self) -> str:
        said = gettext(self.message)
        if self.through_state:
            return gettext("{status}, through the state's campaign").format(status=said)
        return said


def own(status: CampaignStatus) -> Category:
    return Category(f"s-{status.value}", STATUS_LABELS[status])


def through_state(status: CampaignStatus) -> Category:
    return Category(f"v-{status.value}", STATUS_LABELS[status], through_state=True)


def stage(rollout: Rollout) -> Category:
    return Category(f"r-{rollout.value}", ROLLOUT_LABELS[rollout])


# Every category of each layer, in the legend's order.
CATEGORIES: dict[Layer, tuple[Category, ...]] = {
    "campaign": (
        *(own(s) for s in CampaignStatus),
        *(through_state(s) for s in CampaignStatus if s is not CampaignStatus.no_action),
    ),
    "rollout": tuple(stage(r) for r in Rollout),
}
BY_KEY = {c.key: c for layer in CATEGORIES.values() for c in layer}


class _Labels(Mapping[str, str]):
    """Each category's words by its key, in the language of the answer being made."""

    def __getitem__(self, key: str) -> str:
        return BY_KEY[key].label

    def __iter__(self) -> Iterator[str]:
        return iter(BY_KEY)

    def __len__(self) -> int:
        return len(BY_KEY)


LABELS: Mapping[str, str] = _Labels()
# What static/map.js adds to a title when it repaints (the legend gives it these words).
DESPITE = N_("activated despite opt-out")


def category(row: FipsStatus, layer: Layer) -> Category:
    """Where an area goes on the layer: the campaign that covers it (its own, or its state's,
    hatched), or where the rollout stood."""
    if layer == "rollout":
        return stage(row.rollout)
    if row.effective_status_via is EffectiveVia.state:
        return through_state(row.effective_status)
    return own(row.effective_status)


@dataclass(frozen=True)
class Shape:
    """One area on the map: its outline, where it links, its category, what its title says."""

    d: str
    href: str | None
    key: str
    title: str
    despite: bool = False  # activated despite opting out


@dataclass(frozen=True)
class DrawnMap:
    """The map's SVG, how many of its areas are in each category of its layer (the legend),
    and how many were activated despite opting out."""

    svg: Markup
    layer: Layer
    counts: dict[str, int]
    despite: int


def shapes(
    view: View, outlines: MapShapes, rows: Iterable[FipsStatus], layer: Layer
) -> list[Shape]:
    """Join the outlines to the statuses by FIPS, the way partners do with by-fips."""
    if view == "states":
        by_code = {r.fips[:2]: r for r in rows if r.kind in STATE_LEVEL}
        return [_shape(d, by_code.get(code), layer) for code, d in outlines.states.items()]
    by_fips = {r.fips: r for r in rows}
    return [_shape(d, by_fips.get(fips), layer) for fips, d in outlines.counties.items()]


def title(row: FipsStatus, key: str, layer: Layer) -> str:
    """An area's tooltip: the place and its category in words (static/map.js says the same
    when it repaints)."""
    parts = {"name": row.name, "state": row.state, "category": LABELS[key]}
    if layer == "campaign" and row.activated_despite_opt_out:
        return gettext("{name}, {state}: {category}; activated despite opt-out").format(**parts)
    return gettext("{name}, {state}: {category}").format(**parts)


def _shape(d: str, row: FipsStatus | None, layer: Layer) -> Shape:
    if row is None:  # on the map, but not (or no longer) in the database
        return Shape(d, None, CATEGORIES[layer][0].key, gettext("Not tracked"))
    key = category(row, layer).key
    # Linked by FIPS, not slug: 3,142 short links keep the map page near the outlines' size.
    href = f"/jurisdictions/{row.fips}"
    return Shape(d, href, key, title(row, key, layer), row.activated_despite_opt_out)


# Hatches and patterns, one per category that needs one, referenced from site.css
# (`.v-denied { fill: url(#v-denied) }`): the category's colour under white stripes.
def _patterns(keys: set[str]) -> str:
    defs = []
    for key in sorted(keys):
        kind, value = key.split("-", 1)
        if kind == "v":
            base, angle = f"s-{value}", 45
        elif key == stage(Rollout.activated_despite_opt_out).key:
            base, angle = stage(Rollout.activated).key, -45
        else:
            continue
        defs.append(
            f'<pattern id="{key}" width="4" height="4" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate({angle})"><rect class="{base}" width="4" height="4"/>'
            f'<rect class="hatch" width="1.2" height="4"/></pattern>'
        )
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def svg(
    outlines: MapShapes, shapes: list[Shape], label: str, layer: Layer, new_tab: bool = False
) -> Markup:
    """The map as SVG markup: each area a link with a title, the borders on top.

    Built here rather than in a template loop: 3,142 areas render ten times faster.
    """
    target = ' target="_blank"' if new_tab else ""
    # Every pattern of the layer, used or not: a repaint (static/map.js) may need any.
    patterns = _patterns({c.key for c in CATEGORIES[layer]})
    parts = [
        f'<svg class="map" viewBox="{outlines.view_box_attr}" role="group" '
        f'aria-labelledby="map-label" data-layer="{layer}">'
        f'<title id="map-label">{escape(label)}</title>{patterns}'
    ]
    for s in shapes:
        area = f'<path class="{s.key}" d="{s.d}"><title>{escape(s.title)}</title></path>'
        parts.append(f'<a href="{escape(s.href)}"{target}>{area}</a>' if s.href else area)
    parts.append(f'<path class="borders" d="{outlines.borders}"/></svg>')
    return Markup("".join(parts))


def _counts(shapes: list[Shape], layer: Layer) -> dict[str, int]:
    counts = {c.key: 0 for c in CATEGORIES[layer]}
    for shape in shapes:
        counts[shape.key] += 1
    return counts


# Drawn maps of the data version (and day) by language, view, area, label, layer and tab: a
# few dozen at most. The version comes from the database, so every process sees a change at
# once. The language is in the key: the label and the titles are in the reader's.
_drawn: Kept[tuple[Hashable, ...], DrawnMap] = Kept(most=64)


def draw(
    view: View,
    outlines: MapShapes,
    statuses: Callable[[], Iterable[FipsStatus]],
    *,
    label: str,
    version: Hashable,
    layer: Layer = "campaign",
    area: str | None = None,
    new_tab: bool = False,
) -> DrawnMap:
    """The map of `outlines` (those of `area`, or of the country) on `layer`, from
    `statuses`, which are read only when this `version` has not been drawn yet."""
    key = (i18n.LOCALE.get(), view, area, label, layer, new_tab)
    if (drawn := _drawn.get(version, key)) is None:
        found = shapes(view, outlines, statuses(), layer)
        drawn = DrawnMap(
            svg(outlines, found, label, layer, new_tab),
            layer,
            _counts(found, layer),
            sum(s.despite for s in found),
        )
        _drawn.put(version, key, drawn)
    return drawn
