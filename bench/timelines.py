"""Benchmark: what one jurisdiction with a very long timeline costs every visitor.

Run `.venv/bin/python bench/timelines.py` (or `make bench`). It

1. builds a fresh SQLite database in a temp directory (`optout-tracker seed`), then gives
   Santa Clara County `--events` (100,000) events, a third each votes, letters and
   responses (each response answering a letter), spread over the Secure Communities years,
   as an import or a hostile organizer could, and derives its status;
2. starts `optout-tracker serve` on 127.0.0.1 and asks, as an anonymous browser would, for
   the pages and the API answer that show that timeline: the map page `/` and `/activity`
   (their recent events), the county's dossier and its API timeline. Each is asked
   `--requests` (5) times after one untimed request (caches filled); it prints the median and
   the slowest time, and the size of the answer (uncompressed), or that an answer took over
   `--timeout` (60) seconds.

An answer whose time or size grows with the events is an availability hole: anyone can ask
for it again and again. With a paged timeline each should cost about what it costs for a
jurisdiction with a dozen events.

With `--database-url URL` it uses that (empty) database instead, e.g. PostgreSQL.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import sqlalchemy as sa
from events import crowd
from serving import HOST, free_port, start_server, stop_server, wait_until_up
from sqlmodel import col

from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.models import Jurisdiction

SANTA_CLARA_FIPS = "06085"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events of the county (100000)")
    parser.add_argument("--requests", type=int, default=5, help="timed requests per page (5)")
    parser.add_argument(
        "--timeout", type=float, default=60, help="seconds to wait for one answer (60)"
    )
    parser.add_argument("--database-url", help="use this empty database instead of SQLite")
    args = parser.parse_args()
    if args.events < 3 or args.requests < 1:
        parser.error("--events must be at least 3, --requests at least 1")
    return args


def measure(base: str, path: str, n: int, timeout: float) -> tuple[list[float], int] | None:
    """Seconds of each of n GETs of path (after an untimed one) and the answer's size; None
    when an answer takes longer than `timeout`."""
    with httpx2.Client(base_url=base, timeout=timeout, headers={"Accept": "text/html"}) as client:
        try:
            client.get(path).raise_for_status()
            seconds = []
            for _ in range(n):
                t0 = time.perf_counter()
                response = client.get(path)
                seconds.append(time.perf_counter() - t0)
                response.raise_for_status()
        except httpx2.TimeoutException:
            return None
    return seconds, len(response.content)


def main() -> None:
    args = parse_args()
    cli = Path(sys.executable).with_name("optout-tracker")
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.db'}"
        env = {**os.environ, "OPTOUT_DATABASE_URL": url, "OPTOUT_SECRET_KEY": secrets.token_hex()}
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{os.cpu_count()} CPUs, load average {load}")
        seeded = subprocess.run([str(cli), "seed"], env=env, capture_output=True, text=True)
        if seeded.returncode:
            sys.exit(f"optout-tracker seed failed:\n{seeded.stdout}{seeded.stderr}")
        engine = create_db_engine(Settings(database_url=url, secret_key=env["OPTOUT_SECRET_KEY"]))
        t0 = time.perf_counter()
        with unit_of_work(engine) as session:
            j = session.scalars(
                sa.select(Jurisdiction).where(col(Jurisdiction.fips) == SANTA_CLARA_FIPS)
            ).one()
            assert j.id is not None
            j_id, slug = j.id, j.slug
            added = crowd(session, [j_id], args.events)
        engine.dispose()
        took = time.perf_counter() - t0
        print(f"{added:,} events for Santa Clara County in {took:.1f}s")

        port = free_port()
        log = work / "app.log"
        server = start_server(
            [str(cli), "serve", "--host", HOST, "--port", str(port)], log, env, work
        )
        base = f"http://{HOST}:{port}"
        try:
            wait_until_up(base, "/api/v1/status/summary", server, log)
            print(f"\n{'answer':<38} {'median s':>9} {'slowest s':>9} {'bytes':>12}")
            for path in (
                "/",
                "/activity",
                f"/jurisdictions/{slug}",
                f"/api/v1/jurisdictions/{j_id}/timeline",
            ):
                measured = measure(base, path, args.requests, args.timeout)
                if measured is None:
                    print(f"{path:<38} over {args.timeout:.0f}s: timed out")
                    continue
                seconds, size = measured
                median, slowest = statistics.median(seconds), max(seconds)
                print(f"{path:<38} {median:>9.3f} {slowest:>9.3f} {size:>12,}")
        finally:
            stop_server(server)


if __name__ == "__main__":
    main()
