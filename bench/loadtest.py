"""The load test: mixed public reads and API writes against a running server, then a check
that every write the server acknowledged is in the database as acknowledged.

Each client connection loops until the time is up: nine times in ten it GETs one of the
public reads (pages as a browser asks for them), otherwise it writes with a write key: it
creates a vote, or changes the `measure` of one it created earlier (with `If-Match` when
the answer gave an ETag). A vote is only ever changed by the connection that created it,
one request at a time, so the last acknowledged value of each vote is the one the database
must hold (or, if a later change got no answer or a 5xx, that change's value: it may have
been written; that vote is changed no more).
"""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx2
import sqlalchemy as sa

API = "/api/v1"
WRITE_SHARE = 0.10
PATCH_SHARE = 0.5  # of the writes, once the connection has created a vote
PAGE_HEADERS = {"Accept": "text/html", "Accept-Encoding": "gzip, br"}


@dataclass
class Outcome:
    """What the load test saw, and what the database holds afterwards."""

    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)  # of every answer
    failures: Counter[str] = field(default_factory=Counter)  # requests that got no answer
    reads: int = 0
    writes: int = 0
    acknowledged: dict[int, str] = field(default_factory=dict)  # vote id -> measure
    # A change that got no acknowledgement (no answer, or 5xx) may still have been written.
    unanswered: dict[int, str] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)  # acknowledged, not in the database
    differing: list[int] = field(default_factory=list)  # there, with another measure
    busy: Counter[str] = field(default_factory=Counter)  # 503s: "read" or "write", and why
    untagged: int = 0  # acknowledged writes whose answer had no ETag (then no If-Match)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def lost(self) -> int:
        return len(self.missing) + len(self.differing)


async def _connection(
    client: httpx2.AsyncClient,
    key: str,
    reads: list[str],
    jurisdictions: list[int],
    deadline: float,
    rng: random.Random,
    out: Outcome,
) -> None:
    mine: dict[int, str | None] = {}  # this connection's votes -> their ETag, if given
    auth = {"Authorization": f"Bearer {key}"}  # on writes only: the reads are anonymous
    while time.monotonic() < deadline:
        vote: int | None = None  # the vote being changed, if any
        try:
            if rng.random() >= WRITE_SHARE:
                out.reads += 1
                url = rng.choice(reads)
                response = await client.get(url, headers=PAGE_HEADERS if _page(url) else None)
                out.statuses[response.status_code] += 1
                _busy(out, "read", response)
                continue
            out.writes += 1
            measure = f"load test {rng.getrandbits(48):012x}"
            vote = rng.choice(list(mine)) if mine and rng.random() < PATCH_SHARE else None
            if vote is not None:
                out.unanswered[vote] = measure  # until the server says it was written
                response = await client.patch(
                    f"{API}/votes/{vote}",
                    json={"measure": measure},
                    headers=auth | _if_match(mine[vote]),
                )
            else:
                payload = {
                    "jurisdiction_id": rng.choice(jurisdictions),
                    "body": "Board of Supervisors",
                    "held_on": str(date(2009, 1, 1) + timedelta(days=rng.randrange(6 * 365))),
                    "measure": measure,
                    "outcome": rng.choice(("passed", "failed", "tabled")),
                }
                response = await client.post(f"{API}/votes", json=payload, headers=auth)
            out.statuses[response.status_code] += 1
            _busy(out, "write", response)
            if response.status_code in (200, 201):
                body = response.json()
                if body["measure"] != measure:
                    raise RuntimeError(f"the server acknowledged {body} for measure {measure!r}")
                mine[body["id"]] = response.headers.get("etag")
                out.untagged += "etag" not in response.headers
                out.acknowledged[body["id"]] = measure
                out.unanswered.pop(body["id"], None)
            elif vote is not None and response.status_code < 500:
                out.unanswered.pop(vote, None)  # refused: nothing was written
            elif vote is not None:
                del mine[vote]  # its value is uncertain now: change it no more
        except httpx2.TransportError as exc:
            out.failures[type(exc).__name__] += 1
            if vote is not None:
                mine.pop(vote, None)


# The server's two reasons to answer 503 (http/problems.py), as its answers word them.
BUSY = {
    "no database connection came free": "no free database connection in time",
    "the database is busy with another change": "SQLite's write lock held too long",
}


def _busy(out: Outcome, what: str, response: httpx2.Response) -> None:
    """Count a 503 by the kind of request and the reason the answer gives."""
    if response.status_code == 503:
        why = next((v for k, v in BUSY.items() if k in response.text), "another reason")
        out.busy[f"{what}s: {why}"] += 1


def _if_match(tag: str | None) -> dict[str, str]:
    return {"If-Match": tag} if tag else {}


def _page(url: str) -> bool:
    return not url.startswith(API)


def verify(database_url: str, out: Outcome) -> None:
    """Read back every acknowledged vote; fill `missing` and `differing`."""
    engine = sa.create_engine(database_url)
    ids = sorted(out.acknowledged)
    found: dict[int, str | None] = {}
    with engine.connect() as conn:
        for at in range(0, len(ids), 500):
            chunk = ids[at : at + 500]
            rows = conn.execute(
                sa.text("SELECT id, measure FROM vote WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": chunk},
            )
            found.update((i, m) for i, m in rows)
    engine.dispose()
    out.missing = [i for i in ids if i not in found]
    out.differing = [
        i
        for i in ids
        if i in found and found[i] not in (out.acknowledged[i], out.unanswered.get(i))
    ]


async def _load(
    base: str,
    key: str,
    reads: list[str],
    jurisdictions: list[int],
    seconds: float,
    connections: int,
) -> Outcome:
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    out = Outcome(seconds)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=60) as c:
        deadline = time.monotonic() + seconds
        start = time.perf_counter()
        await asyncio.gather(
            *(
                _connection(c, key, reads, jurisdictions, deadline, random.Random(i), out)
                for i in range(connections)
            )
        )
        out.seconds = time.perf_counter() - start
    return out


def run(
    base: str,
    database_url: str,
    key: str,
    reads: list[str],
    jurisdictions: list[int],
    seconds: float,
    connections: int = 32,
) -> Outcome:
    """Load `base` for `seconds`, then check the acknowledged writes in `database_url`."""
    out = asyncio.run(_load(base, key, reads, jurisdictions, seconds, connections))
    verify(database_url, out)
    return out


def describe(name: str, out: Outcome) -> str:
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(out.statuses.items()))
    failures = ", ".join(f"{k}: {n}" for k, n in out.failures.items()) or "none"
    return (
        f"load test on {name}: {out.seconds:.0f}s, {out.reads:,} reads and {out.writes:,} "
        f"writes ({(out.reads + out.writes) / out.seconds:,.0f} req/s); statuses {statuses}; "
        f"no answer: {failures}; {len(out.acknowledged):,} votes acknowledged, "
        f"{len(out.missing)} missing, {len(out.differing)} with another value; "
        f"{out.untagged:,} acknowledgements without an ETag"
        + "".join(f"\n  503 {n} × {why}" for why, n in out.busy.items())
    )
