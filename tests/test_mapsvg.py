"""SVG path data built from the shipped us-atlas TopoJSON (no database)."""

from __future__ import annotations

import gzip
import json
import re
from functools import cache

import pytest

from optout_tracker.mapsvg import MapShapes, state_map, us_map
from optout_tracker.refdata import map_topology_path

GZIP_BUDGET = 180_000  # bytes for every county path plus the borders, gzip level 6

# A command letter, or a number as the module writes them (optional sign, optional
# leading digits, optional one-digit fraction).
_TOKEN = re.compile(r"[MlzZ]|-?(?:\d+(?:\.\d)?|\.\d)")


@cache
def topology_ids() -> tuple[set[str], set[str]]:
    objects = json.loads(map_topology_path().read_text(encoding="utf-8"))["objects"]
    counties = {g["id"] for g in objects["counties"]["geometries"]}
    states = {g["id"] for g in objects["states"]["geometries"]}
    return counties, states


def parse_path(d: str) -> list[list[tuple[float, float]]]:
    """Walk M/l/z path data; return each subpath's absolute points."""
    assert d, "empty path"
    assert re.sub(_TOKEN, "", d).strip(" ") == "", f"unexpected characters in {d[:80]!r}"
    tokens = _TOKEN.findall(d)
    subpaths: list[list[tuple[float, float]]] = []
    command = ""
    numbers: list[float] = []
    x = y = 0.0

    def flush() -> None:
        nonlocal x, y
        assert len(numbers) % 2 == 0, f"odd number count after {command}"
        pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
        if command == "M":
            assert pairs, "M without coordinates"
            x, y = pairs[0]
            subpaths.append([(x, y)])
            pairs = pairs[1:]  # further pairs after M are implicit (absolute) lines
            for px, py in pairs:
                x, y = px, py
                subpaths[-1].append((x, y))
        elif command == "l":
            assert subpaths, "l before any M"
            assert pairs, "l without coordinates"
            for dx, dy in pairs:
                x, y = x + dx, y + dy
                subpaths[-1].append((x, y))
        numbers.clear()

    for token in tokens:
        if token in "MlzZ":
            flush()
            command = token
            if token in "zZ":
                assert subpaths, "z before any M"
                x, y = subpaths[-1][0]
        else:
            assert command in "Ml", f"number {token} after {command!r}"
            numbers.append(float(token))
    flush()
    return subpaths


def bbox(d: str) -> tuple[float, float, float, float]:
    points = [p for sub in parse_path(d) for p in sub]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def assert_inside(d: str, view_box: tuple[float, float, float, float]) -> None:
    vx, vy, vw, vh = view_box
    x0, y0, x1, y1 = bbox(d)
    assert vx - 1 <= x0 and x1 <= vx + vw + 1, (x0, x1, view_box)
    assert vy - 1 <= y0 and y1 <= vy + vh + 1, (y0, y1, view_box)


def all_paths(shapes: MapShapes) -> list[str]:
    return [*shapes.counties.values(), *shapes.states.values(), shapes.borders]


def test_every_county_and_state_has_a_path() -> None:
    counties, states = topology_ids()
    shapes = us_map()
    assert len(counties) == 3142
    assert set(shapes.counties) == counties
    assert set(shapes.states) == states
    assert len(shapes.states) == 51
    assert all(shapes.counties.values())
    assert all(shapes.states.values())
    assert shapes.borders
    assert shapes.counties["11001"]  # DC, filed under its county code
    assert "11" in shapes.states


def test_paths_parse_and_stay_inside_the_view_box() -> None:
    shapes = us_map()
    for d in all_paths(shapes):
        assert_inside(d, shapes.view_box)
        # every county and state subpath is a closed ring of at least three points
    for d in [*shapes.counties.values(), *shapes.states.values()]:
        assert d.startswith("M") and d.endswith("z")
        assert all(len(sub) >= 3 for sub in parse_path(d))


def test_compact_formatting() -> None:
    shapes = us_map()
    text = "".join(all_paths(shapes))
    assert "NaN" not in text and "nan" not in text and "inf" not in text
    assert " -" not in text, "a minus sign already separates numbers"
    assert not re.search(r"\.0(?!\d)", text), "no trailing .0"
    assert not re.search(r"\d\.\d\d", text), "one decimal at most"
    assert "  " not in text


def test_no_repeated_points() -> None:
    for d in us_map().counties.values():
        for sub in parse_path(d):
            for a, b in zip(sub, sub[1:], strict=False):
                assert (round(a[0], 1), round(a[1], 1)) != (round(b[0], 1), round(b[1], 1))


def test_known_shapes_are_where_they_belong() -> None:
    shapes = us_map()
    vx, vy, vw, vh = shapes.view_box
    # Los Angeles County: the left quarter, below the middle (y grows downwards).
    x0, y0, x1, y1 = bbox(shapes.counties["06037"])
    assert (x0 + x1) / 2 < vx + vw * 0.25 and (y0 + y1) / 2 > vy + vh * 0.5
    # ~4.6 km a unit: the mainland plus San Clemente and Santa Catalina islands
    assert 10 < x1 - x0 < 60 and 10 < y1 - y0 < 60
    # Maine: the top-right corner of the lower 48.
    x0, y0, x1, y1 = bbox(shapes.states["23"])
    assert x0 > vx + vw * 0.85 and y1 < vy + vh * 0.35


def test_us_view_box_covers_the_albers_plane() -> None:
    vx, vy, vw, vh = us_map().view_box
    # The drawing is 975x610 except that the western Aleutians project to x < 0.
    assert vx < 0 and vy < 15 and vx + vw > 950 and vy + vh > 600
    attr = us_map().view_box_attr
    assert tuple(float(v) for v in attr.split()) == us_map().view_box


def test_state_map_california() -> None:
    shapes = state_map("06")
    assert len(shapes.counties) == 58
    assert all(fips.startswith("06") for fips in shapes.counties)
    assert shapes.states == {"06": us_map().states["06"]}
    assert shapes.borders == us_map().states["06"]
    # same projected plane: the county paths are the national ones
    assert all(d == us_map().counties[f] for f, d in shapes.counties.items())
    ux, uy, uw, uh = us_map().view_box
    vx, vy, vw, vh = shapes.view_box
    assert ux <= vx and uy <= vy and vx + vw <= ux + uw and vy + vh <= uy + uh
    assert vw < uw / 3 and vh < uh / 1.5
    for d in all_paths(shapes):
        assert_inside(d, shapes.view_box)


@pytest.mark.parametrize("state", ["02", "11", "15", "51"])
def test_state_map_fits_its_state(state: str) -> None:
    shapes = state_map(state)
    assert shapes.counties and set(shapes.states) == {state}
    for d in all_paths(shapes):
        assert_inside(d, shapes.view_box)


def test_every_state_map_has_its_counties() -> None:
    counties, states = topology_ids()
    assert sum(len(state_map(s).counties) for s in states) == len(counties)
    assert state_map("11").counties.keys() == {"11001"}


@pytest.mark.parametrize("bad", ["99", "00", "72", "6", "CA", "", "006"])
def test_unknown_state_raises(bad: str) -> None:
    with pytest.raises((KeyError, ValueError)):
        state_map(bad)


def test_gzipped_size_budget() -> None:
    shapes = us_map()
    payload = ("".join(shapes.counties.values()) + shapes.borders).encode()
    assert len(gzip.compress(payload, 6)) < GZIP_BUDGET


def test_drawn_once_and_cached() -> None:
    assert us_map() is us_map()
    assert state_map("06") is state_map("06")
