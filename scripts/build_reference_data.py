"""Regenerate the US reference data shipped in ``src/optout_tracker/data/``.

Writes, from pinned public sources and nothing typed by hand as lists:

* ``us-atlas/counties-albers-10m.json`` and ``us-atlas/LICENSE``: copied as is from the npm
  package ``us-atlas`` v3 (Census 2017 cartographic boundaries, projected to Albers USA);
* ``jurisdictions.csv``: one row per state, DC, territory and county (or equivalent) that the
  map draws, with full name, USPS code, FIPS, Open Civic Data division id and URL slug.

State metadata comes from the PyPI package ``us``; county full names ("Orleans Parish",
"Baltimore city") from the data files of ``addfips``, matched on FIPS and never on names.

Usage::

    .venv/bin/python scripts/build_reference_data.py            # runs `npm pack us-atlas@3`
    .venv/bin/python scripts/build_reference_data.py --atlas-tgz us-atlas-3.0.1.tgz
    .venv/bin/python scripts/build_reference_data.py --ocd-ids country-us.csv  # also verify

``--ocd-ids`` takes ``identifiers/country-us.csv`` from opencivicdata/ocd-division-ids (or any
CSV whose first column is an OCD id) and lists the generated ids it does not contain.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections import Counter
from dataclasses import astuple, dataclass
from importlib.resources import files
from pathlib import Path

import us

from optout_tracker.slugs import slugify

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "src" / "optout_tracker" / "data"
ATLAS_DIR = DATA_DIR / "us-atlas"
CSV_PATH = DATA_DIR / "jurisdictions.csv"

US_ATLAS_SPEC = "us-atlas@3"
TOPOLOGY_NAME = "counties-albers-10m.json"
ATLAS_FILES = (TOPOLOGY_NAME, "LICENSE", "package.json")
CSV_COLUMNS = ("fips", "name", "kind", "state", "ocd_id", "slug")
OCD_US = "ocd-division/country:us"

# Newest first: a FIPS takes its name from the newest addfips vintage whose name agrees with
# the map's (the map is Census 2017, so 2020 wins except where a vintage carries an alias).
ADDFIPS_VINTAGES = (2020, 2015, 2010)

# Where every addfips vintage disagrees with the Census 2017 name drawn by the map. addfips
# keeps these aliases on purpose (it matches free-text names), so they are not errors there.
NAME_FIXES: dict[str, str] = {
    "02158": "Kusilvak Census Area",  # addfips keeps the pre-2015 name Wade Hampton
    "22059": "LaSalle Parish",  # Census spells it LaSalle since 2015; addfips has La Salle
    "36005": "Bronx County",  # addfips: "the Bronx Borough" (the borough, not the county)
    "36047": "Kings County",  # addfips: "Brooklyn Borough"
}

# County-equivalents that OCD files as places, outside Virginia (whose independent cities are
# found by rule below). Source: identifiers/country-us/exceptions.csv in ocd-division-ids.
OCD_PLACE_EQUIVALENTS: dict[str, str] = {
    "24510": "baltimore",  # Baltimore city, MD (Baltimore County is county:baltimore)
    "29510": "st_louis",  # St. Louis city, MO (St. Louis County is county:st_louis)
    "32510": "carson_city",  # Carson City, NV: consolidated municipality
}

DC_COUNTY_FIPS = "11001"
DC_STATE_FIPS = "11"

# Suffixes that name the kind of county-equivalent; OCD drops them and files Alaska's and
# Louisiana's under their own division types.
_OCD_SUFFIXES: tuple[tuple[str, str], ...] = (
    (" City and Borough", "borough"),
    (" Borough", "borough"),
    (" Municipality", "borough"),
    (" Census Area", "censusarea"),
    (" Parish", "parish"),
    (" County", "county"),
)


@dataclass(frozen=True)
class Row:
    fips: str
    name: str
    kind: str
    state: str
    ocd_id: str
    slug: str


def ocd_segment(text: str) -> str:
    """An OCD id segment the way ocd-division-ids writes them.

    Lowercase, spaces to "_", periods dropped, apostrophes and other punctuation to "~";
    hyphens and accented letters are kept ("St. Mary's" -> "st_mary~s", "Doña Ana" ->
    "doña_ana"), as in the repo's identifiers/country-us/state-*-census.csv files.
    """
    text = re.sub(r"\s+", "_", text.strip().lower().replace(".", ""))
    # Apostrophes, parentheses, commas: "~" (e.g. "fredonia_~biscoe~" for places).
    return re.sub(r"[^\w\-~]", "~", text)


def county_ocd_id(fips: str, name: str, state: str) -> str:
    """OCD id of a county or county-equivalent from its Census full name."""
    prefix = f"{OCD_US}/state:{state.lower()}"
    if fips in OCD_PLACE_EQUIVALENTS:
        return f"{prefix}/place:{OCD_PLACE_EQUIVALENTS[fips]}"
    if state == "VA" and name.endswith(" city"):
        # Virginia's independent cities are places, not counties, for OCD.
        return f"{prefix}/place:{ocd_segment(name.removesuffix(' city'))}"
    for suffix, division_type in _OCD_SUFFIXES:
        if name.endswith(suffix):
            return f"{prefix}/{division_type}:{ocd_segment(name.removesuffix(suffix))}"
    raise ValueError(f"{fips} {name!r}: no known county suffix")


def load_addfips_names() -> list[dict[str, str]]:
    """FIPS -> Census full name, one dict per vintage, newest first."""
    data = files("addfips") / "data"
    vintages = []
    for year in ADDFIPS_VINTAGES:
        text = (data / f"counties_{year}.csv").read_text(encoding="utf-8")
        reader = csv.DictReader(io.StringIO(text))
        vintages.append({r["statefp"] + r["countyfp"]: r["name"] for r in reader})
    return vintages


def county_full_name(fips: str, map_name: str, vintages: list[dict[str, str]]) -> str:
    """The newest addfips name that is the map's name plus a suffix (or the name itself)."""
    if fips in NAME_FIXES:
        return NAME_FIXES[fips]
    for names in vintages:
        name = names.get(fips)
        if name is not None and (name == map_name or name.startswith(map_name + " ")):
            return unicodedata.normalize("NFC", name)  # one spelling of "ñ" for ids and tests
    known = [names.get(fips) for names in vintages]
    raise ValueError(f"{fips} {map_name!r}: addfips has {known}; add it to NAME_FIXES")


def fetch_atlas(tgz: Path | None, workdir: Path) -> dict[str, bytes]:
    """The files we need from the us-atlas tarball (given, or fetched with `npm pack`)."""
    if tgz is None:
        out = subprocess.run(
            ["npm", "pack", US_ATLAS_SPEC, "--silent"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
        tgz = workdir / out.stdout.strip().splitlines()[-1]
    found: dict[str, bytes] = {}
    with tarfile.open(tgz) as tar:  # read members directly: nothing is extracted to disk
        for name in ATLAS_FILES:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise FileNotFoundError(f"{tgz}: no package/{name}")
            found[name] = member.read()
    return found


def build_rows(topology: dict[str, object]) -> list[Row]:
    """Every jurisdiction the map draws, in FIPS order."""
    objects = topology["objects"]
    assert isinstance(objects, dict)
    state_geoms = objects["states"]["geometries"]
    county_geoms = objects["counties"]["geometries"]
    territories = {t.fips for t in us.states.TERRITORIES}
    vintages = load_addfips_names()

    rows: list[Row] = []
    usps_by_fips: dict[str, str] = {}
    for geom in state_geoms:
        fips = geom["id"]
        state = us.states.lookup(fips, field="fips")
        if state is None:
            raise ValueError(f"state {fips} unknown to the `us` package")
        usps_by_fips[fips] = state.abbr
        if fips == DC_STATE_FIPS:
            continue  # DC is one row, under its county-equivalent code (below)
        if fips in territories:
            ocd_id = f"{OCD_US}/territory:{state.abbr.lower()}"
            rows.append(Row(fips, state.name, "territory", state.abbr, ocd_id, slugify(state.abbr)))
        else:
            ocd_id = f"{OCD_US}/state:{state.abbr.lower()}"
            rows.append(Row(fips, state.name, "state", state.abbr, ocd_id, slugify(state.abbr)))

    for geom in county_geoms:
        fips, map_name = geom["id"], geom["properties"]["name"]
        usps = usps_by_fips[fips[:2]]
        if fips == DC_COUNTY_FIPS:
            dc = us.states.DC
            ocd_id = f"{OCD_US}/district:{dc.abbr.lower()}"
            rows.append(Row(fips, dc.name, "federal_district", dc.abbr, ocd_id, "dc"))
            continue
        if fips[:2] in territories:
            # Not reached with us-atlas 3 (no territory drawn); OCD's convention for
            # municipios etc. must be checked before shipping them.
            raise NotImplementedError(f"{fips}: county-equivalent of a territory")
        name = county_full_name(fips, map_name, vintages)
        slug = f"{usps.lower()}-{slugify(name)}"
        rows.append(Row(fips, name, "county", usps, county_ocd_id(fips, name, usps), slug))

    rows.sort(key=lambda r: r.fips)
    for column in ("fips", "slug", "ocd_id"):
        counts = Counter(getattr(r, column) for r in rows)
        dupes = sorted(v for v, n in counts.items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate {column}: {dupes}")
    return rows


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(astuple(r) for r in rows)


def check_ocd_ids(rows: list[Row], ocd_csv: Path) -> list[Row]:
    """Rows whose OCD id is absent from the given ocd-division-ids file."""
    with ocd_csv.open(encoding="utf-8", newline="") as f:
        known = {line[0].strip() for line in csv.reader(f) if line}
    return [r for r in rows if r.ocd_id not in known]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--atlas-tgz", type=Path, help="us-atlas tarball (default: npm pack)")
    parser.add_argument("--ocd-ids", type=Path, help="ocd-division-ids country-us.csv to check")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        atlas = fetch_atlas(args.atlas_tgz, Path(tmp))
    meta = json.loads(atlas["package.json"])
    rows = build_rows(json.loads(atlas[TOPOLOGY_NAME]))  # validate before writing anything
    ATLAS_DIR.mkdir(parents=True, exist_ok=True)
    (ATLAS_DIR / TOPOLOGY_NAME).write_bytes(atlas[TOPOLOGY_NAME])  # as published
    (ATLAS_DIR / "LICENSE").write_bytes(atlas["LICENSE"])
    write_csv(rows, CSV_PATH)

    kinds = {k: sum(r.kind == k for r in rows) for k in ("state", "federal_district", "territory")}
    counties = sum(r.kind in ("county", "federal_district") for r in rows)
    print(f"us-atlas {meta['version']} ({meta['license']}): {len(rows)} rows -> {CSV_PATH}")
    print(f"  {kinds}, counties and equivalents incl. DC: {counties}")

    if args.ocd_ids is not None:
        missing = check_ocd_ids(rows, args.ocd_ids)
        print(f"  OCD ids not in {args.ocd_ids}: {len(missing)}")
        for row in missing:
            print(f"    {row.fips} {row.name}: {row.ocd_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
