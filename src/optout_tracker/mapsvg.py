"""SVG path data for server-rendered county and state maps (no JavaScript).

The shipped us-atlas TopoJSON (``refdata.map_topology_path()``) is already projected to
a 975x610 Albers USA plane, so decoding is just undoing the quantization and the delta
encoding of its arcs. Everything is rounded to tenths of a unit, which is far below a
pixel at any sensible size, and the arcs are decoded once and shared by every shape.

Path data is compact: an absolute ``M`` per ring, then relative ``l`` segments, ``z``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .refdata import map_topology_path

# A position in tenths of a projected unit. Integers keep the rounding exact: relative
# segments computed from rounded absolute positions cannot drift, and "same point after
# rounding" is a plain equality test.
Point = tuple[int, int]
Arc = tuple[Point, ...]

# Around every drawn shape, as a fraction of its larger side (and at least one unit), so
# strokes along the edge are not clipped by the viewBox.
_MARGIN_FRACTION = 0.01
_MIN_MARGIN_TENTHS = 10
# Side, in tenths, of the box drawn for a county too small to survive rounding: about
# the real size of the smallest such city at this scale (~4.6 km per unit).
_MIN_STAND_IN = 2


@dataclass(frozen=True)
class MapShapes:
    """Path data for one map. Shared cached objects: treat the dicts as read-only."""

    view_box: tuple[float, float, float, float]  # min-x, min-y, width, height
    counties: dict[str, str]  # 5-digit county FIPS -> path `d`
    states: dict[str, str]  # 2-digit state FIPS -> path `d` (state fill shapes)
    borders: str  # one path `d`: borders between states, each arc once (a mesh)
    # The national map's: each state's own view box, for its zoomed map (state_map).
    state_boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)

    @property
    def view_box_attr(self) -> str:
        """The view box as an SVG ``viewBox`` attribute value."""
        return " ".join(_fmt_float(v) for v in self.view_box)


@dataclass(frozen=True)
class _Topology:
    """Decoded arcs, plus each feature's rings as lists of arc indices."""

    arcs: tuple[Arc, ...]
    counties: dict[str, list[list[int]]]  # FIPS -> rings (polygons flattened)
    states: dict[str, list[list[int]]]


def _rings_of(geometry: dict[str, Any]) -> list[list[int]]:
    """The rings of a Polygon or MultiPolygon; an SVG path does not need the grouping."""
    kind = geometry.get("type")
    if kind == "Polygon":
        return [list(ring) for ring in geometry["arcs"]]
    if kind == "MultiPolygon":
        return [list(ring) for polygon in geometry["arcs"] for ring in polygon]
    return []  # null geometry: nothing to draw


def _decode_arcs(raw_arcs: list[list[list[int]]], transform: dict[str, list[float]]) -> list[Arc]:
    """Undo delta encoding and quantization; round to tenths; drop repeated points."""
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    # Fold the x10 for tenths into the transform, once per arc set rather than per point.
    sx10, sy10, tx10, ty10 = sx * 10, sy * 10, tx * 10, ty * 10
    decoded: list[Arc] = []
    for raw in raw_arcs:
        qx = qy = 0
        points: list[Point] = []
        for dx, dy in raw:
            qx += dx
            qy += dy
            p = (_round(qx * sx10 + tx10), _round(qy * sy10 + ty10))
            if not points or points[-1] != p:
                points.append(p)
        decoded.append(tuple(points))
    return decoded


def _round(v: float) -> int:
    """Round half up, alike on both sides of zero (``round`` rounds half to even, and
    ``int(v + 0.5)`` would round negatives towards zero; Aleutian points have x < 0)."""
    return math.floor(v + 0.5)


def _topology() -> _Topology:
    """Read and decode the shipped TopoJSON: for us_map, once per process, which keeps what
    it makes of it (the paths, a few MB less than the decoded points)."""
    data = json.loads(map_topology_path().read_text(encoding="utf-8"))
    arcs = tuple(_decode_arcs(data["arcs"], data["transform"]))
    objects = data["objects"]
    counties = {str(g["id"]): _rings_of(g) for g in objects["counties"]["geometries"]}
    states = {str(g["id"]): _rings_of(g) for g in objects["states"]["geometries"]}
    return _Topology(arcs=arcs, counties=counties, states=states)


def _ring_points(arcs: Sequence[Arc], ring: Iterable[int]) -> list[Point]:
    """Join a ring's arcs (``~i`` = arc i reversed) into points, without the closing one."""
    points: list[Point] = []
    for index in ring:
        arc: Iterable[Point] = arcs[index] if index >= 0 else reversed(arcs[~index])
        for p in arc:
            # Arcs share their end points, and rounding can merge neighbours further.
            if not points or points[-1] != p:
                points.append(p)
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()  # `z` closes the ring
    return points


def _twice_area(points: Sequence[Point]) -> int:
    """Shoelace sum (twice the signed area) in tenths squared; exact with integers."""
    total = 0
    x0, y0 = points[-1]
    for x1, y1 in points:
        total += x0 * y1 - x1 * y0
        x0, y0 = x1, y1
    return total


def _fmt(n: int) -> str:
    """Tenths as a short decimal: 12 -> "1.2", -5 -> "-.5", 30 -> "3" (no trailing .0)."""
    sign = "-" if n < 0 else ""
    whole, tenth = divmod(abs(n), 10)
    if not tenth:
        return f"{sign}{whole}"
    if not whole:
        return f"{sign}.{tenth}"  # the leading zero is optional in SVG path data
    return f"{sign}{whole}.{tenth}"


def _fmt_float(v: float) -> str:
    """A view box number, rounded to tenths and formatted like path numbers."""
    return _fmt(_round(v * 10))


def _numbers(values: Iterable[int]) -> str:
    """Numbers separated by a space, or by nothing where the minus sign separates them."""
    out: list[str] = []
    for v in values:
        s = _fmt(v)
        if out and v >= 0:
            out.append(" ")
        out.append(s)
    return "".join(out)


def _subpath(points: Sequence[Point], closed: bool) -> str:
    """``M x y`` then relative ``l`` segments, and ``z`` for a closed ring."""
    x0, y0 = points[0]
    deltas: list[int] = []
    px, py = x0, y0
    for x, y in points[1:]:
        deltas.append(x - px)
        deltas.append(y - py)
        px, py = x, y
    head = f"M{_numbers((x0, y0))}"
    body = f"l{_numbers(deltas)}" if deltas else ""
    return head + body + ("z" if closed else "")


def _drawable_rings(arcs: Sequence[Arc], rings: Iterable[Iterable[int]]) -> Iterator[list[Point]]:
    """Rings that still enclose an area after rounding; the rest are invisible slivers
    or collapsed islands, and a degenerate ``M..z`` only adds bytes."""
    for ring in rings:
        points = _ring_points(arcs, ring)
        if len(points) >= 3 and _twice_area(points):
            yield points


def _feature_path(arcs: Sequence[Arc], rings: Sequence[Iterable[int]]) -> str:
    """Path `d` for one county or state (never empty for a feature with any arcs)."""
    d = "".join(_subpath(points, True) for points in _drawable_rings(arcs, rings))
    if d or not rings:
        return d
    # Every ring collapsed at tenths (three small Virginia independent cities do). Such a
    # county still needs a shape to colour and to click on its state's zoomed map, so
    # stand in its bounding box, at least _MIN_STAND_IN tenths a side, for the outline.
    points = [p for ring in rings for p in _ring_points(arcs, ring)]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    w = max(max(xs) - min(xs), _MIN_STAND_IN)
    h = max(max(ys) - min(ys), _MIN_STAND_IN)
    x0 = (min(xs) + max(xs) - w) // 2
    y0 = (min(ys) + max(ys) - h) // 2
    return _subpath([(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)], True)


def _mesh(arcs: Sequence[Arc], arc_ids: Iterable[int]) -> str:
    """Draw each arc once, stitched into as few polylines as greedily possible.

    Arcs meeting end to end are joined so one ``M`` starts a long line instead of one
    per arc; a line that comes back to its start is closed with ``z``.
    """
    pieces = {i: arcs[i] for i in sorted(set(arc_ids)) if len(arcs[i]) >= 2}
    # End point -> arcs touching it there, to find a continuation in O(1).
    ends: dict[Point, set[int]] = {}
    for i, arc in pieces.items():
        ends.setdefault(arc[0], set()).add(i)
        ends.setdefault(arc[-1], set()).add(i)

    def take_from(point: Point) -> list[Point] | None:
        """Remove an unused arc touching `point`; return it oriented to start there."""
        candidates = ends.get(point)
        if not candidates:
            return None
        i = min(candidates)  # deterministic output
        arc = pieces.pop(i)
        ends[arc[0]].discard(i)
        ends[arc[-1]].discard(i)
        return list(arc) if arc[0] == point else list(reversed(arc))

    lines: list[str] = []
    while pieces:
        first = min(pieces)
        line = take_from(pieces[first][0])
        assert line is not None  # the arc itself touches its own start
        while line[-1] != line[0] and (nxt := take_from(line[-1])) is not None:
            line.extend(nxt[1:])
        while line[-1] != line[0] and (prv := take_from(line[0])) is not None:
            line[:0] = prv[::-1][:-1]
        closed = len(line) > 3 and line[0] == line[-1]
        lines.append(_subpath(line[:-1] if closed else line, closed))
    return "".join(lines)


def _view_box(point_sets: Iterable[Iterable[Point]]) -> tuple[float, float, float, float]:
    """Bounding box of the points plus a small margin, in projected units."""
    xs: list[int] = []
    ys: list[int] = []
    for points in point_sets:
        for x, y in points:
            xs.append(x)
            ys.append(y)
    if not xs:
        raise ValueError("nothing to draw")
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    margin = max(_MIN_MARGIN_TENTHS, round(_MARGIN_FRACTION * max(max_x - min_x, max_y - min_y)))
    return (
        (min_x - margin) / 10,
        (min_y - margin) / 10,
        (max_x - min_x + 2 * margin) / 10,
        (max_y - min_y + 2 * margin) / 10,
    )


def _interior_border_arcs(topo: _Topology) -> list[int]:
    """Arcs between two states: the coast is already the edge of the filled counties."""
    owners: dict[int, set[str]] = {}
    for fips, rings in topo.states.items():
        for ring in rings:
            for i in ring:
                owners.setdefault(i if i >= 0 else ~i, set()).add(fips)
    return [arc for arc, states in owners.items() if len(states) > 1]


@cache
def us_map() -> MapShapes:
    """The whole country: every county, every state and the state borders (cached)."""
    topo = _topology()
    arcs = topo.arcs
    return MapShapes(
        # Every arc belongs to some county, so the arcs bound the whole drawing. This is
        # wider than the nominal 975x610: the western Aleutians project to x < 0.
        view_box=_view_box(arcs),
        counties={fips: _feature_path(arcs, rings) for fips, rings in topo.counties.items()},
        states={fips: _feature_path(arcs, rings) for fips, rings in topo.states.items()},
        borders=_mesh(arcs, _interior_border_arcs(topo)),
        state_boxes={
            fips: _view_box(_drawable_rings(arcs, rings)) for fips, rings in topo.states.items()
        },
    )


def state_map(state_fips: str) -> MapShapes:
    """One state's counties, its outline (as its fill and as `borders`), zoomed to fit.

    Coordinates stay in the national projected plane; only the view box changes.
    Raises ValueError for a malformed code and KeyError for a state not on the map.
    """
    if not (isinstance(state_fips, str) and len(state_fips) == 2 and state_fips.isdigit()):
        raise ValueError(f"not a 2-digit state FIPS code: {state_fips!r}")
    if state_fips not in us_map().states:
        raise KeyError(state_fips)
    return _state_map(state_fips)


@cache
def _state_map(state_fips: str) -> MapShapes:
    national = us_map()  # reuse the already formatted county and state paths
    outline = national.states[state_fips]
    return MapShapes(
        view_box=national.state_boxes[state_fips],
        counties={f: d for f, d in national.counties.items() if f[:2] == state_fips},
        states={state_fips: outline},
        borders=outline,
    )
