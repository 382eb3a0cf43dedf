"""Benchmark: CSV import and export of many events, and the export's memory.

Run `.venv/bin/python bench/import_export.py`. It

1. builds a fresh SQLite database in a temp directory (migrations, then the reference data,
   as the tests do);
2. writes a CSV of `--rows` (100,000) votes spread over the seeded counties, past dates,
   every other row naming its county by `jurisdiction_fips`, the others by
   `jurisdiction_id`, and times `imports.import_csv` on it: a dry run (read and check every
   row) and the real import (check, write, commit), as events per second of wall clock and
   of this process's CPU time (lower wall figures mean others took the CPUs), with how far
   the peak RSS rose. The goal is at least 20,000 events/s on SQLite. `--letters` does the
   same with as many letters; `--webhook` subscribes a webhook to every event first, so that
   each import also builds a payload and writes a delivery per event at commit;
   On SQLite it then times SQLite alone storing the rows that import wrote: the same votes
   (or letters) and their audit entries, read back and inserted with the driver's
   executemany, a thousand at a time in one transaction, into a copy of the database as it
   was before the import. Every import has to store at least that much, so this is its
   ceiling on this machine: events/s of storage alone, and the import's share of it;
   then it exports the votes and imports the export back, as a spreadsheet round trip does:
   unedited (every row unchanged: nothing is written), then with every `--edit-every`-th
   (10th) row's `body` edited (those rows updated as a PATCH would, the others unchanged);
3. exports the votes with the path of `optout-tracker export votes` (services.exports and
   csv_io.stream, private columns included) and with the API's (csv_io.spool into a
   temporary file, then read back in the chunks it is sent in), first `--small` (10,000)
   rows, then all of them, each in a fresh Python process so that its figures are its
   own: rows per second, the tracemalloc peak (in a second, untimed pass: tracing slows
   Python down) and how much the process's peak RSS grew during the export. Flat memory
   means both stay about the same for 10,000 rows and for 100,000.

Before all that, it imports the same votes through the API, as a partner's tool would: it
starts `optout-tracker serve` on the fresh database and POSTs the CSV (`text/csv`, with a
write key) to `/api/v1/import/votes`, then prints events per second of wall clock, request
and commit included, and how far the server process's peak RSS rose above its RSS before the
request (the goal: at least 20,000 events/s, and at most 150 MB).

`--json FILE` also writes the figures of the votes' import (events per second of wall
clock, peak RSS growth in MB) to FILE, for bench/api.py's table: the server's, or with
`--no-api` the import's in this process.
`--import-only` stops after the imports (to compare two source trees by turns, run it with
each on PYTHONPATH). With `--database-url URL` of a PostgreSQL server (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) it creates a throwaway database on
that server instead, and drops it at the end.

The figures depend on the machine and on what else runs on it (the load average is printed
first): compare runs on the same machine, not across machines.
"""

import argparse
import csv
import gc
import io
import json
import os
import random
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2
import sqlalchemy as sa
from serving import HOST, free_port, start_server, stop_server, wait_until_up
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from optout_tracker import csv_io, migrate
from optout_tracker.api.audit import AUDIT
from optout_tracker.api.export import CHUNK
from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine
from optout_tracker.enums import (
    AgencyKind,
    Channel,
    JurisdictionKind,
    LetterPurpose,
    Scope,
    VoteOutcome,
)
from optout_tracker.models import Agency, AuditEntry, Jurisdiction, Webhook
from optout_tracker.schemas import BY_PLURAL, AuditFilters
from optout_tracker.security import CLI
from optout_tracker.seed import seed
from optout_tracker.services import accounts, exports, feeds, imports

STORED_AT_ONCE = 1_000  # rows per executemany, for "SQLite alone"
FIRST_DAY, LAST_DAY = date(2008, 1, 1), date(2014, 12, 31)  # the Secure Communities years
BODIES = ("Board of Supervisors", "County Board", "County Commission", "County Council")
MEASURES = (
    "Request to opt out of Secure Communities",
    "Resolution to withdraw from Secure Communities",
    "Resolution limiting ICE detainer requests",
)
OUTCOMES = (VoteOutcome.passed, VoteOutcome.failed, VoteOutcome.tabled, VoteOutcome.withdrawn)
PURPOSES = (
    LetterPurpose.opt_out_request,
    LetterPurpose.activation_delay_request,
    LetterPurpose.clarification_request,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="events per import (100000)")
    parser.add_argument(
        "--small", type=int, default=10_000, help="rows of the smaller export (10000)"
    )
    parser.add_argument("--letters", action="store_true", help="also import as many letters")
    parser.add_argument(
        "--webhook", action="store_true", help="subscribe a webhook to every event first"
    )
    parser.add_argument(
        "--import-only", action="store_true", help="time the imports, not the exports"
    )
    parser.add_argument(
        "--edit-every",
        type=int,
        default=10,
        metavar="N",
        help="import the votes' export back, unedited, then with every N-th row edited "
        "(10; 0: skip both)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="run on a throwaway database on this PostgreSQL server instead of SQLite",
    )
    parser.add_argument(
        "--no-api", action="store_true", help="skip the import through the API and its server"
    )
    parser.add_argument(
        "--json", metavar="FILE", help="write the votes import's figures to FILE as JSON"
    )
    # The export runs in a child process started with this, so that its memory is its own.
    parser.add_argument("--export-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rows < 1 or not 1 <= args.small <= args.rows:
        parser.error("--rows must be at least 1, --small between 1 and --rows")
    return args


def engine_for(url: str) -> Engine:
    return create_db_engine(Settings(database_url=url))


@contextmanager
def fresh_database(postgres: str | None) -> Iterator[str]:
    """The URL of an empty database that is gone afterwards."""
    if postgres is None:
        with tempfile.TemporaryDirectory(prefix="optout-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    name = f"optout_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def counties(session: Session) -> list[tuple[int, str, str]]:
    """(id, FIPS, state) of every seeded county."""
    rows = session.execute(
        sa.select(col(Jurisdiction.id), col(Jurisdiction.fips), col(Jurisdiction.state))
        .where(col(Jurisdiction.kind) == JurisdictionKind.county)
        .order_by(col(Jurisdiction.id))
    )
    return [(i, f or "", s) for i, f, s in rows]


def day(rng: random.Random) -> str:
    return (FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))).isoformat()


def reference(n: int, county: tuple[int, str, str]) -> list[str]:
    """jurisdiction_id and jurisdiction_fips cells: by FIPS in even rows, by id in odd ones."""
    return ["", county[1]] if n % 2 == 0 else [str(county[0]), ""]


def csv_text(header: list[str], rows: Iterator[list[str]]) -> str:
    return "\r\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\r\n"


def votes_csv(session: Session, n: int, rng: random.Random) -> str:
    places = counties(session)
    header = ["jurisdiction_id", "jurisdiction_fips", "body", "held_on", "measure", "outcome"]
    header += ["yes", "no", "abstain", "absent", "source_url", "public_notes", "private_notes"]

    def rows() -> Iterator[list[str]]:
        for i in range(n):
            county = rng.choice(places)
            yes, no = rng.randint(0, 7), rng.randint(0, 7)
            yield [
                *reference(i, county),
                rng.choice(BODIES),
                day(rng),
                rng.choice(MEASURES),
                rng.choice(OUTCOMES).value,
                str(yes),
                str(no),
                str(rng.randint(0, 1)) if i % 3 == 0 else "",
                "",
                f"https://example.org/minutes/{county[1]}/{i}" if i % 2 else "",
                "Reported in the county's minutes" if i % 4 == 0 else "",
                "Supervisor Chan is persuadable" if i % 5 == 0 else "",
            ]

    return csv_text(header, rows())


def letters_csv(session: Session, n: int, rng: random.Random) -> str:
    places = counties(session)
    ice = session.scalars(sa.select(col(Agency.id)).filter_by(kind=AgencyKind.ice)).one()
    bureaus = sa.select(col(Agency.state), col(Agency.id)).filter_by(
        kind=AgencyKind.state_identification_bureau
    )
    sib = dict(session.execute(bureaus).all())
    header = ["jurisdiction_id", "jurisdiction_fips", "agency_id", "channel", "sent_on"]
    header += ["purpose", "signed_by", "subject", "response_due_on"]

    def rows() -> Iterator[list[str]]:
        for i in range(n):
            county = rng.choice(places)
            sent_on = day(rng)
            due = date.fromisoformat(sent_on) + timedelta(days=45)
            yield [
                *reference(i, county),
                str(sib.get(county[2], ice) if i % 2 else ice),
                rng.choice(list(Channel)).value,
                sent_on,
                rng.choice(PURPOSES).value,
                "County Executive",
                "Request to opt out of Secure Communities",
                due.isoformat() if i % 3 == 0 else "",  # the others get the 30-day window
            ]

    return csv_text(header, rows())


@dataclass
class Timing:
    wall: float  # seconds
    cpu: float  # seconds this process ran: less than wall when others took the CPUs
    rss_growth: int  # KiB the peak RSS rose above the RSS at the start


def timed_import(
    engine: Engine, kind: str, text: str, expected: tuple[int, int, int], *, dry_run: bool
) -> Timing:
    """One import in its own transaction, commit included; `expected`: the rows it creates,
    updates and leaves unchanged."""
    n = sum(expected)
    gc.collect()
    rss = reset_peak_rss()
    with Session(engine, expire_on_commit=False) as session:
        wall, cpu = time.perf_counter(), time.process_time()
        report = imports.import_csv(
            session, kind, text, CLI, response_window_days=30, max_rows=n, dry_run=dry_run
        )
        session.commit()
        timing = Timing(
            time.perf_counter() - wall,
            time.process_time() - cpu,
            peak_rss() - rss,
        )
    if (found := (report.created, report.updated, report.unchanged)) != expected:
        sys.exit(f"{kind}: created, updated, unchanged {found}, expected {expected}")
    return timing


def storage_alone(before: Path, after: Path, table: str, n: int) -> float:
    """Seconds SQLite takes to store the last `n` rows of `table` in `after`, and their audit
    entries, inserted by the driver into a copy of `before`, with the application's pragmas."""
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as tmp:
        target = Path(tmp) / "storage.db"
        shutil.copyfile(before, target)
        source = sqlite3.connect(after)
        rows = source.execute(f"SELECT * FROM {table} ORDER BY id DESC LIMIT ?", (n,)).fetchall()
        first = min(r[0] for r in rows)
        entries = source.execute(
            "SELECT * FROM audit_entry WHERE entity = ? AND entity_id >= ? AND action = 'create'",
            (table, first),
        ).fetchall()
        source.close()
        db = sqlite3.connect(target, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=5000",
            "synchronous=NORMAL",
        ):
            db.execute(f"PRAGMA {pragma}")
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        for at in range(0, len(rows), STORED_AT_ONCE):
            for name, batch in ((table, rows), ("audit_entry", entries)):
                chunk = batch[at : at + STORED_AT_ONCE]
                marks = ",".join("?" * len(chunk[0])) if chunk else ""
                db.executemany(f"INSERT INTO {name} VALUES ({marks})", chunk)
        db.execute("COMMIT")
        seconds = time.perf_counter() - start
        db.close()
        return seconds


def deliveries(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM webhook_delivery")) or 0


def bench_import(
    engine: Engine,
    kind: str,
    text: str,
    expected: tuple[int, int, int],
    sqlite_file: Path | None,
    label: str = "",
) -> Timing:
    """A dry run and the import of `text`; for a file of new records only, on SQLite, what
    SQLite alone takes to store what it wrote. Returns the import's timing."""
    n = sum(expected)
    new_only = expected[0] == n
    for dry_run, what, unit in ((True, "dry run", "rows"), (False, "", "events")):
        before = deliveries(engine)
        if sqlite_file and new_only and not dry_run:
            engine.dispose()  # the last connection closing folds the WAL into the file
            shutil.copyfile(sqlite_file, sqlite_file.with_suffix(".before"))
        t = timed_import(engine, kind, text, expected, dry_run=dry_run)
        if not new_only:
            unit = "rows"
        name = f"import {kind}{label}{' ' + what if what else ''}"
        print(f"{name}: {n} {unit} in {t.wall:.2f}s, {n / t.wall:,.0f} {unit}/s")
        print(f"{name}: {t.cpu:.2f}s CPU, {n / t.cpu:,.0f} {unit} per CPU second")
        print(f"{name}: peak RSS grew {t.rss_growth / 1024:.0f} MB")
        if made := deliveries(engine) - before:
            print(f"{name}: {made} webhook deliveries written at commit")
        if sqlite_file and new_only and not dry_run:
            table = BY_PLURAL[kind].model.__table__.name  # type: ignore[attr-defined]
            alone = storage_alone(sqlite_file.with_suffix(".before"), sqlite_file, table, n)
            print(
                f"{name}: SQLite alone stores them and their audit entries in {alone:.2f}s, "
                f"{n / alone:,.0f} events/s; the import runs at {alone / t.wall:.0%} of that"
            )
    return t


def bench_api_import(url: str, engine: Engine, text: str, n: int) -> dict[str, float]:
    """The votes POSTed to /api/v1/import/votes of `optout-tracker serve` on the database at
    `url`: events per second, and how far the server's peak RSS rose during the request."""
    with Session(engine) as session:
        _, token = accounts.create_api_key(session, "bench import", Scope.write, CLI)
        session.commit()
    cli = Path(sys.executable).with_name("optout-tracker")
    env = {
        **os.environ,
        "OPTOUT_DATABASE_URL": url,
        "OPTOUT_SECRET_KEY": secrets.token_hex(),
        "OPTOUT_IMPORT_MAX_ROWS": str(max(n, 100_000)),
    }
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as tmp:
        log = Path(tmp) / "app.log"
        server = start_server(
            [str(cli), "serve", "--host", HOST, "--port", str(port)], log, env, Path(tmp)
        )
        try:
            wait_until_up(base, "/api/v1/status/summary", server, log)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
            body = text.encode()
            with httpx2.Client(base_url=base, timeout=600, headers=headers) as client:
                # A dry run of a few rows first: the route's code paths loaded and warmed.
                few = "\r\n".join(text.split("\r\n", 11)[:11]) + "\r\n"
                client.post("/api/v1/import/votes?dry_run=true", content=few.encode())
                rss = reset_peak_rss(server.pid)
                start = time.perf_counter()
                r = client.post("/api/v1/import/votes", content=body)
                took = time.perf_counter() - start
                grew = (peak_rss(server.pid) - rss) / 1024
        finally:
            stop_server(server)
    if r.status_code != 200 or r.json()["created"] != n:
        sys.exit(f"import through the API failed: {r.status_code} {r.text[:2000]}")
    name = "import votes through the API"
    print(f"{name}: {n} events in {took:.2f}s, {n / took:,.0f} events/s")
    print(f"{name}: the server's peak RSS grew {grew:.0f} MB (from {rss / 1024:.0f} MB)")
    return {"events_per_s": n / took, "rss_growth_mb": grew}


def exported(engine: Engine, kind: str) -> str:
    """Every record of the kind as `optout-tracker export` writes it."""
    with Session(engine) as session:
        everything = exports.everything(session, kind)
        header = everything.header(private=True)
        return "".join(csv_io.stream(session, everything.statement, everything.to_row, header))


def edited(text: str, every: int) -> tuple[str, int]:
    """The export with a cell of every `every`-th row changed, as a spreadsheet saves it; and
    how many rows that is."""
    rows = list(csv.reader(io.StringIO(text)))
    at = rows[0].index("body")
    changed = 0
    for i, row in enumerate(rows[1:]):
        if i % every == 0:
            row[at] = f"{row[at]} (corrected)"
            changed += 1
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue(), changed


def bench_reimport(engine: Engine, n: int, every: int) -> None:
    """The votes' export imported back: unedited (every row unchanged), then with every
    `every`-th row edited (each an update, as a PATCH)."""
    text = exported(engine, "votes")
    bench_import(engine, "votes", text, (0, 0, n), None, " (the unedited export)")
    text, changed = edited(text, every)
    label = f" (the export, {changed} rows edited)"
    bench_import(engine, "votes", text, (0, changed, n - changed), None, label)


def bench_audit_reads(engine: Engine) -> None:
    """The activity feed and the audit log's first page, now that imports filled the log."""
    with Session(engine) as session:
        entries = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
        for name, read in (
            ("activity feed, 50 newest", lambda: feeds.changes(session)),
            ("audit log, first page", lambda: AUDIT.page(session, AuditFilters())),
        ):
            read()  # warm the statement cache
            start = time.perf_counter()
            read()
            took = time.perf_counter() - start
            print(f"{name} of {entries:,} audit entries: {took * 1000:.1f} ms")


def export_child(url: str, limit: int, path: str) -> None:
    """In a fresh process: export `limit` votes as the CLI or the API does (`path`); print
    the figures as JSON."""
    engine = engine_for(url)
    with Session(engine) as session:
        everything = exports.everything(session, "votes")
    statement, to_row = everything.statement, everything.to_row
    header = everything.header(private=True)

    def run() -> tuple[int, int]:
        rows = size = 0
        with Session(engine) as session:
            if path == "cli":
                for chunk in csv_io.stream(session, statement.limit(limit), to_row, header):
                    rows += chunk.count("\r\n")
                    size += len(chunk.encode("utf-8"))
                return rows - 1, size  # less the header
            spooled = csv_io.spool(session, statement.limit(limit), to_row, header)
        with spooled:  # as api/export.py sends it, after the session has closed
            last = b""
            while data := spooled.read(CHUNK):
                # A row's "\r\n" may straddle two chunks.
                rows += data.count(b"\r\n") + (last == b"\r" and data.startswith(b"\n"))
                size += len(data)
                last = data[-1:]
        return rows - 1, size

    with Session(engine) as session:  # connect and warm the statement cache first
        session.execute(statement.limit(1)).all()
    gc.collect()
    rss_before = reset_peak_rss()
    start = time.perf_counter()
    rows, size = run()
    seconds = time.perf_counter() - start
    rss_peak = peak_rss()
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {"rows": rows, "bytes": size, "seconds": seconds, "peak": peak}
    print(json.dumps({**figures, "rss_before": rss_before, "rss_peak": rss_peak}))


def reset_peak_rss(pid: int | str = "self") -> int:
    """The RSS now of this process (or of `pid`, on Linux), in KiB, from which `peak_rss`
    measures the peak.

    Importing the application peaks higher than it settles (data files are read and
    dropped), so on Linux the kernel's peak (VmHWM) is reset to the current RSS first;
    elsewhere the peak since this process started has to do.
    """
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return _proc_status("VmRSS", pid)
    except OSError:
        if pid != "self":
            raise
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss(pid: int | str = "self") -> int:
    try:
        return _proc_status("VmHWM", pid)
    except OSError:
        if pid != "self":
            raise
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _proc_status(field: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def bench_export(url: str, limit: int, path: str) -> None:
    done = subprocess.run(
        [sys.executable, __file__, "--export-child", url, str(limit), path],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"export of {limit} rows failed:\n{done.stdout}{done.stderr}")
    f: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    rows = f"{f['rows']} ({path})"
    print(
        f"export votes {rows}: {f['seconds']:.2f}s, {f['rows'] / f['seconds']:,.0f} rows/s, "
        f"{f['bytes'] / 1e6:.1f} MB of CSV"
    )
    print(f"export votes {rows}: tracemalloc peak {f['peak'] / 1e6:.1f} MB")
    peak, grew = f["rss_peak"] / 1024, (f["rss_peak"] - f["rss_before"]) / 1024
    print(f"export votes {rows}: peak RSS {peak:.1f} MB, {grew:.1f} MB above the start")


def seeded(url: str, webhook: bool) -> Engine:
    """An engine on the database at `url`, migrated and seeded (and with a webhook
    subscribed to every event, if asked)."""
    engine = engine_for(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed(session)
        if webhook:
            session.add(Webhook(url="https://example.org/hook", secret="s" * 32))
        session.commit()
    return engine


def main() -> None:
    args = parse_args()
    if args.export_child:
        export_child(args.export_child[0], int(args.export_child[1]), args.export_child[2])
        return
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}")
    served: dict[str, float] = {}
    if not args.no_api:  # in a database of its own, so that the rest starts as without it
        with fresh_database(args.database_url) as url:
            engine = seeded(url, args.webhook)
            with Session(engine) as session:
                votes = votes_csv(session, args.rows, random.Random(2010))
            served = bench_api_import(url, engine, votes, args.rows)
            engine.dispose()
    with fresh_database(args.database_url) as url:
        print(f"database: {url.split('@')[-1] if args.database_url else 'fresh SQLite file'}")
        engine = seeded(url, args.webhook)
        rng = random.Random(2010)
        with Session(engine) as session:
            votes = votes_csv(session, args.rows, rng)
            letters = letters_csv(session, args.rows, rng) if args.letters else ""
        print(f"votes CSV: {args.rows} rows, {len(votes.encode()) / 1e6:.1f} MB")
        sqlite_file = None if args.database_url else Path(sa.make_url(url).database or "")
        t = bench_import(engine, "votes", votes, (args.rows, 0, 0), sqlite_file)
        if args.json:  # the server's figures when measured: that is where an import runs
            mine = {"events_per_s": args.rows / t.wall, "rss_growth_mb": t.rss_growth / 1024}
            Path(args.json).write_text(json.dumps(served or mine))
        if letters:
            bench_import(engine, "letters", letters, (args.rows, 0, 0), sqlite_file)
        if args.edit_every:
            bench_reimport(engine, args.rows, args.edit_every)
        if args.import_only:
            return
        bench_audit_reads(engine)
        engine.dispose()
        for path in ("cli", "api"):
            for limit in (args.small, args.rows):
                bench_export(url, limit, path)


if __name__ == "__main__":
    main()
