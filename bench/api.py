"""Benchmark of issue 15 (fast public reads, imports at spreadsheet scale): every figure of
its table, each with its target and PASS or FAIL.

Run `make bench` (or `.venv/bin/python bench/api.py`; `--quick` for a short run that
proves the machinery, not the figures). It

1. makes a fresh SQLite database in a temp directory: `optout-tracker seed` and `demo`
   (timed), then 100,000 events (`--events`) spread over every county and the program's
   years (bench/events.py);
2. serves it three ways at once on 127.0.0.1: `optout-tracker serve` (one process, as on
   SQLite), a bare FastAPI app (one sync `/ping` route) under uvicorn in the same venv,
   and Datasette (a dev dependency) on the same SQLite file;
3. checks each read once (status, compression, no cookie), takes the map page's size on
   the wire with the best encoding the server offers (`Accept-Encoding: br, gzip`), then
   measures every read of the table with wrk (installed from Debian when missing), 2
   threads and 32 connections for `--seconds` (10) each, after a short warm-up. The reads
   take turns in `--rounds` (3) rounds, in a rotating order, so that noise (other
   processes, CPU frequency) hits them all alike; the bare `/ping` and Datasette's row
   JSON are reads of the rounds like the others. After each run it waits until the
   servers are idle: requests still in flight when wrk stops (a map page renders for
   seconds) would otherwise take CPU from the next read. Pages are asked for as a browser does
   (`Accept: text/html`, `Accept-Encoding: gzip, br`), the API as a partner's client does
   (`Accept-Encoding: gzip, br` too); the revalidated map page sends `If-None-Match` with
   the ETag the server gave, and must answer 304;
4. runs the load test (bench/loadtest.py) against the same server: `--load-seconds` (30)
   of mixed public reads and API writes with a write key made by the CLI, then checks
   every acknowledged write in the database; then reads the server's memory
   (/proc/PID/status: VmRSS now, VmHWM its peak);
5. runs the import bench (bench/import_export.py, in a process of its own) on SQLite
   (all of it: also the re-imports and exports, unless `--quick`) and on a database of its
   own on PostgreSQL (`--postgres`, created and dropped): 100,000 votes (`--rows`), events
   per second of wall clock and how far the importing process's peak RSS grew (it runs
   the import's code as the server does);
6. runs the load test on PostgreSQL: a database of its own, seeded, the demo and the
   events loaded, served by 2 uvicorn workers as deployed;
7. prints the summary: one Markdown table, a row per figure of the issue's table, to paste
   into the README.

Reading it: "× bare" is the read's requests per second divided by the bare app's in the
same run; 1.0 would mean our code (database, validation, rendering, compression) costs
nothing beyond FastAPI and uvicorn. 0.30× means a request costs about three bare ones.
wrk runs on the same machine and takes CPU from the servers, and it limits the bare app
most, so the ratios understate our overhead rather than overstate it. req/s is summed over
the rounds; p50 and p99 are the median over the rounds of each round's percentile, in ms.
A read with errors (sockets that failed or timed out, answers other than 2xx or 3xx)
fails whatever its rate. Compare figures from one run, not across machines or runs: the
load average printed first says how busy the machine was.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import loadtest
import sqlalchemy as sa
import wrk
from events import crowd
from import_export import fresh_database
from serving import (
    HOST,
    free_port,
    memory_mb,
    settle,
    start_server,
    stop_server,
    wait_until_up,
)
from sqlmodel import Session, col

from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import JurisdictionKind
from optout_tracker.models import Jurisdiction

API = "/api/v1"
SANTA_CLARA_FIPS = "06085"
DOSSIER = "/jurisdictions/va-arlington-county"
PAGE = {"Accept": "text/html", "Accept-Encoding": "gzip, br"}
JSON = {"Accept": "application/json", "Accept-Encoding": "gzip, br"}
MAP_BYTES_TARGET = 176 * 1024
IMPORT_RATE_TARGET = 20_000  # events/s
MEMORY_TARGET_MB = 150  # the server's RSS after the bench, and an import's peak RSS growth
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BARE_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
"""


@dataclass
class Read:
    """One read of the table, measured with wrk over the rounds."""

    name: str
    url: str  # absolute: the bare app and Datasette are other servers
    headers: Mapping[str, str]
    expect: int = 200
    runs: list[wrk.Run] = field(default_factory=list)

    @property
    def rate(self) -> float:
        seconds = sum(r.seconds for r in self.runs)
        return sum(r.requests for r in self.runs) / seconds if seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def p50_ms(self) -> float:  # the median over the rounds of each round's p50
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)


@dataclass
class Row:
    """A row of the summary: the issue's figure, its target, what was measured."""

    figure: str
    target: str
    measured: str
    passed: bool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run: 1 round of 3 s")
    parser.add_argument("--seconds", type=float, help="seconds of wrk per read and round (10)")
    parser.add_argument("--rounds", type=int, help="rounds of the reads (3)")
    parser.add_argument("--events", type=int, default=100_000, help="events loaded (100000)")
    parser.add_argument("--rows", type=int, default=100_000, help="votes imported (100000)")
    parser.add_argument("--load-seconds", type=float, help="seconds of each load test (30)")
    parser.add_argument(
        "--postgres", default=POSTGRES, metavar="URL", help=f"a PostgreSQL server ({POSTGRES})"
    )
    args = parser.parse_args()
    quick = args.quick
    args.seconds = args.seconds or (3 if quick else 10)
    args.rounds = args.rounds or (1 if quick else 3)
    args.load_seconds = args.load_seconds or (10 if quick else 30)
    args.warmup = 1 if quick else 2
    if args.rounds < 1 or args.seconds < 1 or args.events < 3 or args.rows < 1:
        parser.error("--rounds, --seconds, --rows at least 1, --events at least 3")
    return args


def prepare(cli: Path, url: str, env: Mapping[str, str], events: int) -> None:
    """Seed, the demo and `events` events in the empty database at `url`."""
    for command in ("seed", "demo"):
        start = time.perf_counter()
        done = subprocess.run([str(cli), command], env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"optout-tracker {command} failed:\n{done.stdout}{done.stderr}")
        print(f"{command}: {time.perf_counter() - start:.1f}s")
    engine = create_db_engine(Settings(database_url=url, secret_key=env["OPTOUT_SECRET_KEY"]))
    start = time.perf_counter()
    with unit_of_work(engine) as session:
        added = crowd(session, county_ids(session), events)
    engine.dispose()
    print(f"events: {added:,} in {time.perf_counter() - start:.1f}s")


def county_ids(session: Session) -> list[int]:
    query = sa.select(col(Jurisdiction.id)).where(col(Jurisdiction.kind) == JurisdictionKind.county)
    return [i for i in session.scalars(query) if i is not None]


def write_key(cli: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        [str(cli), "api-keys", "create", "bench", "--scope", "write"],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"optout-tracker api-keys create failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def serve(
    cli: Path, env: Mapping[str, str], work: Path, name: str, workers: int = 1
) -> tuple[str, "subprocess.Popen[bytes]"]:
    port = free_port()
    log = work / f"{name}.log"
    args = [str(cli), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    proc = start_server(args, log, env, work)
    base = f"http://{HOST}:{port}"
    wait_until_up(base, f"{API}/status/summary", proc, log)
    return base, proc


def santa_clara(base: str) -> int:
    found = httpx2.get(f"{base}{API}/jurisdictions", params={"fips": SANTA_CLARA_FIPS})
    found.raise_for_status()
    items = found.json()["items"]
    if len(items) != 1:
        sys.exit(f"expected one jurisdiction with FIPS {SANTA_CLARA_FIPS}, got {len(items)}")
    return int(items[0]["id"])


def public_reads(j: int) -> dict[str, tuple[str, Mapping[str, str]]]:
    """The reads of the issue's table (besides the revalidated map), by their names there."""
    return {
        "/": ("/", PAGE),
        "/jurisdictions/{slug}": (DOSSIER, PAGE),
        "/api/v1/jurisdictions/{id}": (f"{API}/jurisdictions/{j}", JSON),
        "/api/v1/jurisdictions?state=CA&limit=50": (f"{API}/jurisdictions?state=CA&limit=50", JSON),
        "/api/v1/jurisdictions/{id}/timeline": (f"{API}/jurisdictions/{j}/timeline", JSON),
        "/api/v1/status/summary": (f"{API}/status/summary", JSON),
        "/api/v1/status/by-fips": (f"{API}/status/by-fips", JSON),
    }


def check(read: Read) -> str:
    """One request as wrk will send it: the status it must answer, compressed if a 200.
    Returns the problem, or ''."""
    with (
        httpx2.Client(timeout=60) as client,
        client.stream("GET", read.url, headers=dict(read.headers)) as response,
    ):
        body = b"".join(response.iter_raw())
    if response.status_code != read.expect:
        return f"answered {response.status_code}, not {read.expect}: {body[:200]!r}"
    if "set-cookie" in response.headers:
        return f"set a cookie: {response.headers['set-cookie'][:100]}"
    if read.expect == 200 and len(body) > 1024 and "content-encoding" not in response.headers:
        return f"{len(body):,} bytes uncompressed"
    return ""


def map_bytes(base: str) -> list[tuple[str, str, int]]:
    """The map page's bytes on the wire for each offer: (offer, encoding chosen, bytes)."""
    sizes = []
    for offer in ("br, gzip", "gzip"):
        with (
            httpx2.Client(timeout=60) as client,
            client.stream("GET", f"{base}/", headers={**PAGE, "Accept-Encoding": offer}) as answer,
        ):
            body = b"".join(answer.iter_raw())
        answer.raise_for_status()
        sizes.append((offer, answer.headers.get("content-encoding", "identity"), len(body)))
    return sizes


def measure(
    reads: list[Read], tool: str, work: Path, args: argparse.Namespace, servers: list[int]
) -> None:
    """Each read with wrk: a warm-up, then `args.rounds` rounds of `args.seconds`; the
    servers (their pids) idle again before each run."""
    scripts = [wrk.lua_script(work, f"read{i}", r.headers) for i, r in enumerate(reads)]
    for r, script in zip(reads, scripts, strict=True):
        wrk.run(tool, r.url, script, args.warmup)  # connections opened, caches filled
        settle(servers)
    for i in range(args.rounds):
        # Rotate the order each round so no read always follows the same one.
        for k in range(len(reads)):
            j = (i + k) % len(reads)
            reads[j].runs.append(wrk.run(tool, reads[j].url, scripts[j], args.seconds))
            settle(servers)
            print(".", end="", flush=True)
    print()


def report_reads(reads: list[Read], bare: Read) -> None:
    print(f"\nwrk: {wrk.THREADS} threads, {wrk.CONNECTIONS} connections")
    print(f"{'read':<44} {'req/s':>8} {'× bare':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in reads:
        print(
            f"{r.name:<44} {r.rate:>8,.0f} {r.rate / bare.rate:>7.3f} "
            f"{r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.errors:>7}"
        )


def import_figures(rows: int, postgres: str | None, full: bool) -> dict[str, float]:
    """bench/import_export.py's figures of importing `rows` votes, run in a process of its
    own (its memory is the import's); its own report goes to the terminal. `full`: also its
    re-imports, audit reads and exports."""
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as tmp:
        out = Path(tmp) / "import.json"
        script = Path(__file__).with_name("import_export.py")
        args = [sys.executable, str(script), "--rows", str(rows), "--json", str(out)]
        args += [] if full else ["--import-only", "--edit-every", "0"]
        args += ["--database-url", postgres] if postgres else []
        print(f"\n$ {' '.join(args)}", flush=True)
        if subprocess.run(args).returncode:
            sys.exit("the import bench failed")
        figures: dict[str, float] = json.loads(out.read_text())
        return figures


def load(
    cli: Path, env: Mapping[str, str], base: str, url: str, name: str, seconds: float
) -> loadtest.Outcome:
    """The load test against `base`, serving `url`: public reads, and votes written."""
    j = santa_clara(base)
    engine = create_db_engine(Settings(database_url=url, secret_key=env["OPTOUT_SECRET_KEY"]))
    with unit_of_work(engine) as session:
        counties = county_ids(session)
    engine.dispose()
    reads = [path for path, _ in public_reads(j).values()]
    out = loadtest.run(base, url, write_key(cli, env), reads, counties, seconds)
    print(loadtest.describe(name, out))
    return out


def ratio_row(figure: str, read: Read, base: Read, target: float, against: str = "bare") -> Row:
    ratio = read.rate / base.rate if base.rate else 0.0
    measured = f"{ratio:.3f}× {against} ({read.rate:,.0f} vs {base.rate:,.0f} req/s)"
    if read.errors or base.errors:
        measured += f", {read.errors + base.errors} errors"
    ok = ratio >= target and not read.errors and not base.errors
    return Row(figure, f"≥ {target:.2f}× {against}", measured, ok)


# The read targets, × bare, in its table's order.
READ_TARGETS = {
    "/": 0.30,
    "/ revalidated": 0.60,
    "/jurisdictions/{slug}": 0.20,
    "/api/v1/jurisdictions/{id}": 0.30,
    "/api/v1/jurisdictions?state=CA&limit=50": 0.15,
    "/api/v1/jurisdictions/{id}/timeline": 0.20,
    "/api/v1/status/summary": 0.50,
    "/api/v1/status/by-fips": 0.50,
}
FIGURES = {"/ revalidated": "`/` revalidated (`If-None-Match` → 304)"}
DATASETTE = "Datasette's row JSON"


def bench_reads(
    args: argparse.Namespace, tool: str, cli: Path, work: Path
) -> tuple[list[Row], loadtest.Outcome, tuple[float, float]]:
    """Steps 1 to 4 on SQLite: the reads' and map bytes' rows, the load test, the server's
    memory afterwards (RSS, peak) in MB."""
    db_file = work / "bench.db"
    url = f"sqlite:///{db_file}"
    env = {**os.environ, "OPTOUT_DATABASE_URL": url, "OPTOUT_SECRET_KEY": secrets.token_hex()}
    prepare(cli, url, env, args.events)
    (work / "bare.py").write_text(BARE_APP)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        base, app = serve(cli, env, work, "app")
        servers.append(app)
        bare_port, datasette_port = free_port(), free_port()
        bare_base, datasette_base = f"http://{HOST}:{bare_port}", f"http://{HOST}:{datasette_port}"
        bare_args = [sys.executable, "-m", "uvicorn", "bare:app", "--host", HOST]
        bare_args += ["--port", str(bare_port)]
        servers.append(start_server(bare_args, work / "bare.log", env, work))
        datasette = Path(sys.executable).with_name("datasette")
        datasette_args = [str(datasette), "serve", str(db_file), "-h", HOST]
        datasette_args += ["-p", str(datasette_port)]
        servers.append(start_server(datasette_args, work / "datasette.log", env, work))
        wait_until_up(bare_base, "/ping", servers[1], work / "bare.log")
        j = santa_clara(base)
        row_json = f"/{db_file.stem}/jurisdiction/{j}.json"
        wait_until_up(datasette_base, row_json, servers[2], work / "datasette.log")

        reads = [Read(name, base + path, h) for name, (path, h) in public_reads(j).items()]
        etag = httpx2.get(f"{base}/", headers=PAGE, timeout=60).headers.get("etag")
        reads.insert(
            1, Read("/ revalidated", f"{base}/", {**PAGE, "If-None-Match": etag or ""}, 304)
        )
        reads.append(Read(DATASETTE, datasette_base + row_json, JSON))
        bare = Read("bare FastAPI /ping", f"{bare_base}/ping", JSON)
        reads.append(bare)
        problems = {r.name: check(r) for r in reads}
        if etag is None:
            problems["/ revalidated"] = "answered without an ETag: nothing to revalidate"
        for name, problem in problems.items():
            if problem:
                print(f"{name}: {problem}")
        skipped = {n: p for n, p in problems.items() if p.startswith("answered")}
        if bare.name in skipped:
            sys.exit(f"the bare app does not answer: {skipped[bare.name]}")
        sizes = map_bytes(base)
        measured = [r for r in reads if r.name not in skipped]
        print(f"reads: {len(measured)} × {args.rounds} rounds × {args.seconds:g}s", flush=True)
        measure(measured, tool, work, args, [p.pid for p in servers])
        report_reads(measured, bare)

        print(f"\nload test on SQLite, 1 process ({args.load_seconds:g}s)", flush=True)
        outcome = load(cli, env, base, url, "SQLite", args.load_seconds)
        rss, peak = memory_mb(app.pid)
        print(f"server memory after the bench: RSS {rss:.0f} MB, peak {peak:.0f} MB")
    finally:
        for proc in servers:
            stop_server(proc)

    rows = []
    by_name = {r.name: r for r in reads}
    for name, target in READ_TARGETS.items():
        figure = FIGURES.get(name, f"`{name}`")
        if name in skipped:
            rows.append(Row(figure, f"≥ {target:.2f}× bare", skipped[name], False))
            continue
        rows.append(ratio_row(figure, by_name[name], bare, target))
        if name == "/api/v1/jurisdictions/{id}":
            figure = f"`{name}` vs Datasette's row JSON, same row and SQLite file"
            if DATASETTE in skipped:
                rows.append(Row(figure, "≥ 1.00× Datasette", skipped[DATASETTE], False))
            else:
                rows.append(ratio_row(figure, by_name[name], by_name[DATASETTE], 1.0, "Datasette"))
    _, encoding, size = min(sizes, key=lambda offered: offered[2])
    offers = "; ".join(f"{offer} → {chosen} {n:,}" for offer, chosen, n in sizes)
    rows.append(
        Row(
            "map page bytes on the wire",
            f"≤ {MAP_BYTES_TARGET:,} bytes (176 KB)",
            f"{size:,} bytes, {encoding} (offered {offers})",
            size <= MAP_BYTES_TARGET,
        )
    )
    return rows, outcome, (rss, peak)


def bench_imports(rows: int, postgres: str, quick: bool) -> list[Row]:
    """Step 5: the import bench on SQLite (all of it, unless quick) and on PostgreSQL."""
    out = []
    for name, server in (("SQLite", None), ("PostgreSQL", postgres)):
        f = import_figures(rows, server, full=server is None and not quick)
        rate, growth = f["events_per_s"], f["rss_growth_mb"]
        out.append(
            Row(
                f"CSV import of {rows:,} votes, {name}",
                f"≥ {IMPORT_RATE_TARGET:,} events/s, peak RSS growth ≤ {MEMORY_TARGET_MB} MB",
                f"{rate:,.0f} events/s, peak RSS grew {growth:.0f} MB",
                rate >= IMPORT_RATE_TARGET and growth <= MEMORY_TARGET_MB,
            )
        )
    return out


def postgres_load(args: argparse.Namespace, cli: Path) -> loadtest.Outcome:
    """Step 6: the load test on a database of its own on PostgreSQL, 2 workers."""
    with fresh_database(args.postgres) as url, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OPTOUT_DATABASE_URL": url, "OPTOUT_SECRET_KEY": secrets.token_hex()}
        prepare(cli, url, env, args.events)
        base, app = serve(cli, env, Path(tmp), "app", workers=2)
        try:
            return load(cli, env, base, url, "PostgreSQL", args.load_seconds)
        finally:
            stop_server(app)


def load_row(name: str, out: loadtest.Outcome) -> Row:
    return Row(
        f"load test, {name}: {out.seconds:.0f}s, {out.reads:,} reads, {out.writes:,} writes",
        "0 5xx; every acknowledged write there",
        f"{out.server_errors} 5xx ({out.statuses[503]} 503), {sum(out.failures.values())} "
        f"unanswered; {len(out.acknowledged):,} votes acknowledged, {out.lost} missing or "
        "different",
        out.server_errors == 0 and not out.failures and out.lost == 0,
    )


def summary(rows: list[Row]) -> str:
    lines = ["| figure | target | measured | |", "|---|---|---|---|"]
    for r in rows:
        verdict = "PASS" if r.passed else "FAIL"
        lines.append(f"| {r.figure} | {r.target} | {r.measured} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    tool = wrk.ensure_installed()
    if not Path(sys.executable).with_name("datasette").exists():
        sys.exit("Datasette is missing: `make .venv/.installed` (it is a dev dependency)")
    cli = Path(sys.executable).with_name("optout-tracker")
    print(f"{os.cpu_count()} CPUs, load average {load_average()}")
    print("SQLite:")
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as tmp:
        rows, sqlite_load, (rss, peak) = bench_reads(args, tool, cli, Path(tmp))
    rows += bench_imports(args.rows, args.postgres, args.quick)
    rows.append(
        Row(
            "server RSS after the bench (SQLite, 1 process)",
            f"≤ {MEMORY_TARGET_MB} MB",
            f"{rss:.0f} MB (peak {peak:.0f} MB)",
            rss <= MEMORY_TARGET_MB,
        )
    )
    print(f"\nload test on PostgreSQL, 2 workers ({args.load_seconds:g}s)", flush=True)
    pg_load = postgres_load(args, cli)
    rows.append(load_row("SQLite, 1 process", sqlite_load))
    rows.append(load_row("PostgreSQL, 2 workers", pg_load))
    print(f"\nsummary ({os.cpu_count()} CPUs, load average now {load_average()}):\n")
    print(summary(rows))


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
