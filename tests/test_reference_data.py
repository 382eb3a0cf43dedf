"""The shipped reference data: jurisdictions.csv, the us-atlas map and the FIPS crosswalk."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from optout_tracker.refdata import (
    FIPS_SUCCESSORS,
    RefJurisdiction,
    map_topology_path,
    reference_jurisdictions,
    resolve_fips,
)

# 3,142 counties and equivalents in us-atlas 3 (Census 2017), DC's 11001 included.
EXPECTED_COUNTIES_WITH_DC = 3142
HISTORY_CSV = map_topology_path().parents[1] / "secure_communities_history.csv"
# Puerto Rico's state MOA row: the map draws no territory, so nothing to resolve it to.
HISTORY_FIPS_OFF_MAP = {"72"}


@cache
def by_fips() -> dict[str, RefJurisdiction]:
    return {j.fips: j for j in reference_jurisdictions()}


@cache
def topology() -> dict[str, dict[str, list[dict[str, object]]]]:
    objects: dict[str, dict[str, list[dict[str, object]]]] = json.loads(
        map_topology_path().read_text(encoding="utf-8")
    )["objects"]
    return objects


def of_kind(kind: str) -> list[RefJurisdiction]:
    return [j for j in reference_jurisdictions() if j.kind == kind]


def test_counts() -> None:
    kinds = Counter(j.kind for j in reference_jurisdictions())
    assert kinds["state"] == 50
    assert kinds["federal_district"] == 1
    assert kinds["territory"] == 0  # us-atlas 3 draws no territory
    assert kinds["county"] + kinds["federal_district"] == EXPECTED_COUNTIES_WITH_DC
    assert set(kinds) <= {"state", "federal_district", "territory", "county"}


def test_fips_order_and_formats() -> None:
    rows = reference_jurisdictions()
    assert [j.fips for j in rows] == sorted(j.fips for j in rows)
    for j in rows:
        assert re.fullmatch(r"\d{2}" if j.kind in ("state", "territory") else r"\d{5}", j.fips)


@pytest.mark.parametrize("column", ["fips", "slug", "ocd_id"])
def test_unique(column: str) -> None:
    values = [getattr(j, column) for j in reference_jurisdictions()]
    assert [v for v, n in Counter(values).items() if n > 1] == []


def test_slugs_are_url_safe() -> None:
    for j in reference_jurisdictions():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", j.slug), j


def test_ocd_ids_are_well_formed() -> None:
    for j in reference_jurisdictions():
        assert j.ocd_id.startswith("ocd-division/country:us/"), j
        assert re.fullmatch(r"[\w\-~:/]+", j.ocd_id) and j.ocd_id == j.ocd_id.lower(), j


def test_every_county_belongs_to_a_state() -> None:
    states = {j.state: j for j in of_kind("state")}
    assert len(states) == 50
    for county in of_kind("county"):
        state = states[county.state]
        assert county.fips[:2] == state.fips
        assert county.ocd_id.startswith(state.ocd_id + "/")
        assert county.slug.startswith(state.slug + "-")


def test_dc_appears_once() -> None:
    assert "11" not in by_fips()
    assert [j for j in reference_jurisdictions() if j.state == "DC"] == [
        RefJurisdiction(
            fips="11001",
            name="District of Columbia",
            kind="federal_district",
            state="DC",
            ocd_id="ocd-division/country:us/district:dc",
            slug="dc",
        )
    ]


def test_state_row() -> None:
    assert by_fips()["06"] == RefJurisdiction(
        "06", "California", "state", "CA", "ocd-division/country:us/state:ca", "ca"
    )


def test_baltimore_city_and_county_are_distinct() -> None:
    city, county = by_fips()["24510"], by_fips()["24005"]
    assert (city.name, city.slug) == ("Baltimore city", "md-baltimore-city")
    assert (county.name, county.slug) == ("Baltimore County", "md-baltimore-county")
    assert city.ocd_id == "ocd-division/country:us/state:md/place:baltimore"
    assert county.ocd_id == "ocd-division/country:us/state:md/county:baltimore"


@pytest.mark.parametrize(
    ("fips", "name", "ocd_id", "slug"),
    [
        # County-equivalents that OCD files as places (identifiers/country-us/exceptions.csv).
        ("51510", "Alexandria city", "state:va/place:alexandria", "va-alexandria-city"),
        ("51600", "Fairfax city", "state:va/place:fairfax", "va-fairfax-city"),
        ("51059", "Fairfax County", "state:va/county:fairfax", "va-fairfax-county"),
        ("51760", "Richmond city", "state:va/place:richmond", "va-richmond-city"),
        ("51159", "Richmond County", "state:va/county:richmond", "va-richmond-county"),
        ("29510", "St. Louis city", "state:mo/place:st_louis", "mo-st-louis-city"),
        ("29189", "St. Louis County", "state:mo/county:st_louis", "mo-st-louis-county"),
        ("32510", "Carson City", "state:nv/place:carson_city", "nv-carson-city"),
        # Spot checks.
        ("06085", "Santa Clara County", "state:ca/county:santa_clara", "ca-santa-clara-county"),
        ("22071", "Orleans Parish", "state:la/parish:orleans", "la-orleans-parish"),
        ("02020", "Anchorage Municipality", "state:ak/borough:anchorage", None),
        ("02050", "Bethel Census Area", "state:ak/censusarea:bethel", "ak-bethel-census-area"),
        ("35013", "Doña Ana County", "state:nm/county:doña_ana", "nm-dona-ana-county"),
        ("24037", "St. Mary's County", "state:md/county:st_mary~s", "md-st-marys-county"),
        ("46102", "Oglala Lakota County", "state:sd/county:oglala_lakota", None),
        ("02158", "Kusilvak Census Area", "state:ak/censusarea:kusilvak", None),
    ],
)
def test_known_rows(fips: str, name: str, ocd_id: str, slug: str | None) -> None:
    row = by_fips()[fips]
    assert (row.name, row.kind, row.ocd_id) == (name, "county", f"ocd-division/country:us/{ocd_id}")
    if slug is not None:
        assert row.slug == slug


def test_virginia_independent_cities_are_places() -> None:
    cities = [j for j in of_kind("county") if j.state == "VA" and j.name.endswith(" city")]
    assert len(cities) == 38
    assert all("/place:" in j.ocd_id for j in cities)


def test_map_and_csv_have_the_same_counties() -> None:
    geometries = topology()["counties"]["geometries"]
    on_map = {g["id"] for g in geometries}
    assert len(on_map) == len(geometries) == EXPECTED_COUNTIES_WITH_DC
    in_csv = {j.fips for j in reference_jurisdictions() if len(j.fips) == 5}
    assert on_map == in_csv


def test_map_states_are_zero_padded_and_known() -> None:
    ids = {g["id"] for g in topology()["states"]["geometries"]}
    assert ids == {j.fips for j in of_kind("state")} | {"11"}  # DC has a state outline


def test_successors_point_at_the_map() -> None:
    for retired, current in FIPS_SUCCESSORS.items():
        assert retired not in by_fips()
        assert by_fips()[current].kind == "county"
        assert retired[:2] == current[:2]
        assert resolve_fips(retired) == current
    assert resolve_fips("06085") == "06085"


def test_every_history_fips_resolves() -> None:
    if not HISTORY_CSV.exists():
        pytest.skip(f"{HISTORY_CSV.name} is not in the package data yet")
    with HISTORY_CSV.open(encoding="utf-8", newline="") as f:
        codes = {row["fips"] for row in csv.DictReader(f) if row["fips"]}
    unresolved = {c for c in codes if resolve_fips(c) not in by_fips()}
    assert unresolved == HISTORY_FIPS_OFF_MAP & codes
    assert "51515" in codes  # Bedford city, resolved through FIPS_SUCCESSORS


def test_topology_path_is_packaged() -> None:
    path = map_topology_path()
    assert isinstance(path, Path) and path.is_file()
    assert (path.parent / "LICENSE").is_file()
