"""Benchmark: how long loading the data takes, and how fast the API answers.

Run `.venv/bin/python bench/api.py` (or `make bench`). It

1. times `optout-tracker seed` and then `optout-tracker demo` (wall clock, including the
   interpreter start and migrations) against a fresh SQLite database in a temp directory,
   then adds `--events` (100,000) votes, letters and responses spread over every county and
   the program's years (bench/events.py), so that a status as of another day is derived
   from that many facts;
2. starts `optout-tracker serve` and, next to it, a bare FastAPI app (one sync `/ping`
   route) under uvicorn with the same defaults, both on 127.0.0.1, and measures requests
   per second and p50/p95 latency for one jurisdiction, a page of 50 jurisdictions, the
   status summary, the statuses by FIPS today and as of mid-2011 (derived from the facts,
   then kept per data version and day) and the bare `/ping`. The endpoints take turns in
   rounds so that noise (other processes, CPU frequency) hits them all alike;
3. measures three HTML pages in the same rounds, the map page `/` today and as of mid-2011
   (`/?as_of=2011-06-30`), and the dossier of Arlington County, VA, requested as a browser
   would (`Accept: text/html`, `Accept-Encoding: gzip`), so the server renders and gzips
   every answer (level 6). The client reads the compressed bytes as they arrive and does
   not decompress them, which would take CPU from the servers.
   The map pages cost far more than the rest, so they get `--page-requests` (300), not
   `--requests`; finally it prints each page's size on the wire (gzipped) and uncompressed,
   and the map page's against its target of about 180 KB.

Reading the ratios: "vs bare" is the endpoint's req/s as a percentage of the bare app's.
100% would mean our code (database, dependencies, validation, serialization) costs nothing
beyond FastAPI and uvicorn themselves; 25% means a request costs about four bare ones.
The client runs on the same machine and takes CPU from the servers, and it limits the bare
app most, so the ratios understate our overhead rather than overstate it. Compare figures
from the same machine and run, not across machines.

With `--database-url URL` the benchmark uses that database (e.g. PostgreSQL) instead of a
temporary SQLite file. The database should be empty: seed and demo are timed against it,
and on an already loaded database they measure little more than "nothing to do".
"""

import argparse
import asyncio
import gzip
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import sqlalchemy as sa
from events import crowd
from serving import HOST, free_port, start_server, stop_server, wait_until_up
from sqlmodel import col

from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import JurisdictionKind
from optout_tracker.models import Jurisdiction

API = "/api/v1"
SANTA_CLARA_FIPS = "06085"
MAP_PAGE = "/"
AS_OF = "2011-06-30"  # mid-rollout: about half the counties activated
DOSSIER_PAGE = "/jurisdictions/va-arlington-county"
# What a browser sends for a page, as far as the server's work depends on it.
PAGE_HEADERS = {"Accept": "text/html", "Accept-Encoding": "gzip"}
MAP_TARGET_BYTES = 180 * 1024  # the map page's gzipped size should stay about here
WARMUP = 200  # untimed requests per endpoint before the rounds, at most a fifth of its share
ROUNDS = 5  # each endpoint's requests are split into this many turns, interleaved
BARE_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
"""


@dataclass
class Result:
    """Requests, busy seconds and per-request latencies of one endpoint, summed over rounds."""

    name: str
    url: str
    planned: int  # requests to send over all rounds
    page: bool = False  # an HTML page: browser headers, body read raw (still gzipped)
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=1500, help="timed requests per endpoint (1500)"
    )
    parser.add_argument(
        "--page-requests",
        type=int,
        default=300,
        help="timed requests for the map page, which is slow to render and gzip (300)",
    )
    parser.add_argument(
        "--events", type=int, default=100_000, help="events added after the demo (100000)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="concurrent client connections (8)"
    )
    parser.add_argument(
        "--database-url",
        help="benchmark this database (e.g. postgresql+psycopg://...) instead of a fresh "
        "SQLite file; it should be empty, since seed and demo are timed against it",
    )
    args = parser.parse_args()
    if min(args.requests, args.page_requests) < ROUNDS or args.concurrency < 1:
        parser.error(
            f"--requests and --page-requests must be at least {ROUNDS}, --concurrency at least 1"
        )
    return args


def add_events(url: str, n: int) -> None:
    """Spread n events over every county (bench/events.py) and say how long that took."""
    engine = create_db_engine(Settings(database_url=url))
    start = time.perf_counter()
    with unit_of_work(engine) as session:
        counties = session.scalars(
            sa.select(col(Jurisdiction.id)).where(col(Jurisdiction.kind) == JurisdictionKind.county)
        ).all()
        added = crowd(session, [i for i in counties if i is not None], n)
    engine.dispose()
    took = time.perf_counter() - start
    print(f"events {took:6.2f}s for {added:,} over {len(counties):,} counties")


def timed_command(cli: Path, command: str, env: Mapping[str, str]) -> float:
    """Run `optout-tracker COMMAND` and return its wall-clock seconds."""
    start = time.perf_counter()
    done = subprocess.run([str(cli), command], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"optout-tracker {command} failed:\n{done.stdout}{done.stderr}")
    # The command prints its own timings ("seed: ... (1.2s)"); keep them as context.
    own = "; ".join(line for line in done.stdout.splitlines() if line.strip())
    print(f"{command:<5} {elapsed:6.2f}s wall clock  [{own}]")
    return elapsed


async def get_page(client: httpx2.AsyncClient, url: str) -> tuple[httpx2.Response, bytes]:
    """GET a page as a browser would; return the response and its body as sent (gzipped).

    The body is read raw: decompressing it would cost the client CPU that the servers on
    this machine then miss, and the server's work (render, gzip, send) is the same either way.
    """
    async with client.stream("GET", url, headers=PAGE_HEADERS) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {body[:300]!r}")
    if response.headers.get("content-encoding") != "gzip":
        raise RuntimeError(f"GET {url} was not gzipped: {dict(response.headers)}")
    if "set-cookie" in response.headers:
        # The client would send the cookie back, with every API request too.
        raise RuntimeError(f"GET {url} set a cookie: {response.headers['set-cookie'][:100]}")
    return response, body


async def run_batch(
    client: httpx2.AsyncClient, url: str, n: int, concurrency: int, page: bool = False
) -> tuple[float, list[float]]:
    """Send N GETs over CONCURRENCY connections; return elapsed seconds and latencies."""
    remaining = n
    latencies: list[float] = []

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1  # no await in between, so no other worker sees the same count
            t0 = time.perf_counter()
            if page:
                await get_page(client, url)  # raises unless a gzipped 200
                latencies.append(time.perf_counter() - t0)
                continue
            response = await client.get(url)
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(
                    f"GET {url} answered {response.status_code}: {response.text[:300]}"
                )

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    return time.perf_counter() - start, latencies


@dataclass
class PageSize:
    name: str
    gzipped: int  # content-length of the gzipped answer: the bytes on the wire
    raw: int  # the HTML once decompressed


async def benchmark(
    app_base: str, bare_base: str, n: int, page_n: int, concurrency: int
) -> tuple[list[Result], list[PageSize]]:
    # One client per server: a shared pool would evict one server's keep-alive connections
    # to open the other's at every switch, charging reconnects to whichever runs next.
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with (
        httpx2.AsyncClient(base_url=app_base, limits=limits, timeout=10) as app,
        httpx2.AsyncClient(base_url=bare_base, limits=limits, timeout=10) as bare,
    ):
        found = await app.get(f"{API}/jurisdictions", params={"fips": SANTA_CLARA_FIPS})
        found.raise_for_status()
        items = found.json()["items"]
        if len(items) != 1:
            sys.exit(f"expected one jurisdiction with FIPS {SANTA_CLARA_FIPS}, got {len(items)}")
        santa_clara = items[0]["id"]
        results = [
            Result("jurisdiction (Santa Clara)", f"{API}/jurisdictions/{santa_clara}", n),
            Result("jurisdictions?limit=50", f"{API}/jurisdictions?limit=50", n),
            Result("status/summary", f"{API}/status/summary", n),
            Result("status/by-fips", f"{API}/status/by-fips", n),
            Result(f"status/by-fips?as_of={AS_OF}", f"{API}/status/by-fips?as_of={AS_OF}", n),
            Result("page / (map)", MAP_PAGE, page_n, page=True),
            Result(f"page /?as_of={AS_OF}", f"{MAP_PAGE}?as_of={AS_OF}", page_n, page=True),
            Result("page dossier (Arlington)", DOSSIER_PAGE, n, page=True),
            Result("bare FastAPI /ping", "/ping", n),
        ]
        clients = [*(app for _ in results[:-1]), bare]
        sizes = []
        for name, url in (("map /", MAP_PAGE), ("dossier (Arlington)", DOSSIER_PAGE)):
            response, body = await get_page(app, url)
            length = int(response.headers["content-length"])
            if length != len(body):
                sys.exit(f"GET {url}: content-length {length} but {len(body)} bytes")
            sizes.append(PageSize(name, length, len(gzip.decompress(body))))
        # Warm-up: open the connections, fill caches, let both servers reach a steady state.
        for r, client in zip(results, clients, strict=True):
            await run_batch(client, r.url, min(WARMUP, max(1, r.planned // 5)), concurrency, r.page)
        for i in range(ROUNDS):
            # Rotate the order each round so no endpoint always follows the same one.
            for k in range(len(results)):
                j = (i + k) % len(results)
                r = results[j]
                share = r.planned // ROUNDS + (r.planned % ROUNDS if i == ROUNDS - 1 else 0)
                seconds, latencies = await run_batch(clients[j], r.url, share, concurrency, r.page)
                r.requests += share
                r.seconds += seconds
                r.latencies += latencies
        return results, sizes


def report(
    results: list[Result], sizes: list[PageSize], concurrency: int, n: int, page_n: int
) -> None:
    bare = results[-1].rate
    print(f"\n{concurrency} concurrent connections, {ROUNDS} interleaved rounds")
    print(
        f"pages as a browser asks (gzip); map pages {page_n} requests (--page-requests), "
        f"the others {n} (--requests)"
    )
    print(
        f"{'endpoint':<32} {'requests':>8} {'seconds':>8} {'req/s':>8} {'vs bare':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    for r in results:
        print(
            f"{r.name:<32} {r.requests:>8} {r.seconds:>8.2f} {r.rate:>8.0f} "
            f"{r.rate / bare:>8.1%} {r.percentile(50) * 1000:>7.1f} {r.percentile(95) * 1000:>7.1f}"
        )
    print(f"\n{'page':<27} {'gzipped bytes':>14} {'raw bytes':>10} {'ratio':>6}")
    for s in sizes:
        print(f"{s.name:<27} {s.gzipped:>14,} {s.raw:>10,} {s.gzipped / s.raw:>6.1%}")
    gz = sizes[0].gzipped
    off = gz - MAP_TARGET_BYTES
    print(
        f"map page: {gz:,} bytes gzipped vs target ~180 KB ({MAP_TARGET_BYTES:,}): "
        f"{abs(off):,} bytes ({abs(off) / MAP_TARGET_BYTES:.1%}) {'over' if off > 0 else 'under'}"
    )


def main() -> None:
    args = parse_args()
    cli = Path(sys.executable).with_name("optout-tracker")
    servers: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="optout-bench-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.db'}"
        env = {**os.environ, "OPTOUT_DATABASE_URL": url}
        # Other work on the machine skews the figures; the load average shows how much there was.
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{os.cpu_count()} CPUs, load average {load}")
        print(f"database: {url.split('@')[-1] if args.database_url else 'fresh SQLite file'}")
        timed_command(cli, "seed", env)
        timed_command(cli, "demo", env)
        add_events(url, args.events)

        (work / "bare.py").write_text(BARE_APP)
        app_port, bare_port = free_port(), free_port()
        app_log, bare_log = work / "app.log", work / "bare.log"
        try:
            servers.append(
                start_server(
                    [str(cli), "serve", "--host", HOST, "--port", str(app_port)], app_log, env, work
                )
            )
            servers.append(
                start_server(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "bare:app",
                        "--host",
                        HOST,
                        "--port",
                        str(bare_port),
                    ],
                    bare_log,
                    env,
                    work,
                )
            )
            app_base, bare_base = f"http://{HOST}:{app_port}", f"http://{HOST}:{bare_port}"
            wait_until_up(app_base, f"{API}/status/summary", servers[0], app_log)
            wait_until_up(bare_base, "/ping", servers[1], bare_log)
            results, sizes = asyncio.run(
                benchmark(app_base, bare_base, args.requests, args.page_requests, args.concurrency)
            )
        finally:
            for proc in servers:
                stop_server(proc)
    report(results, sizes, args.concurrency, args.requests, args.page_requests)


if __name__ == "__main__":
    main()
