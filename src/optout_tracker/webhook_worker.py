"""The webhook worker: claims due deliveries, POSTs them signed, and records every attempt.

A claim is a short transaction that leases a batch of deliveries (`SELECT … FOR UPDATE SKIP
LOCKED` on PostgreSQL, so concurrent workers take disjoint batches; SQLite serialises
writers anyway). The POSTs happen outside any transaction, and the outcomes are written in
a second one, so a slow receiver never holds a lock. If a worker dies mid-batch, its lease
runs out and another worker sends those deliveries again, with the same delivery id.
"""

import hashlib
import hmac
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import version
from uuid import uuid4

import httpx2
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from .config import Settings
from .db import unit_of_work
from .db_types import utcnow
from .enums import DeliveryState
from .models import Webhook, WebhookAttempt, WebhookDelivery

BATCH = 8  # deliveries per claim, sent in parallel
EXCERPT = 500  # bytes of the receiver's answer kept with the attempt
MAX_BACKOFF = timedelta(hours=6)
PRUNE_EVERY_SECONDS = 3600
D = WebhookDelivery


@dataclass(frozen=True)
class Claimed:
    id: int
    uuid: str
    event: str
    body: str
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Tally:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.delivered} delivered, {self.retrying} to retry, {self.failed} failed"


@dataclass
class Worker:
    engine: Engine
    settings: Settings
    name: str = field(
        default_factory=lambda: f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid4().hex[:8]}"
    )

    def run(self, *, once: bool = False, stop: threading.Event | None = None,
            poll_seconds: float = 1.0) -> Tally:  # fmt: skip
        """Deliver until stopped; with `once`, until nothing is due, then return."""
        stop = stop or threading.Event()
        tally = Tally()
        with (
            httpx2.Client(
                timeout=self.settings.webhook_timeout_seconds,
                follow_redirects=False,
                headers={"User-Agent": f"optout-tracker/{version('optout-tracker')}"},
            ) as client,
            ThreadPoolExecutor(BATCH, thread_name_prefix="webhook") as pool,
        ):
            pruned_at = 0.0
            while not stop.is_set():
                if time.monotonic() - pruned_at > PRUNE_EVERY_SECONDS:
                    self.prune()
                    pruned_at = time.monotonic()
                batch = self.claim()
                if not batch:
                    if once:
                        break
                    stop.wait(poll_seconds)
                    continue
                outcomes = list(pool.map(lambda c: post(client, c), batch))
                self.record(list(zip(batch, outcomes, strict=True)), tally)
        return tally

    def prune(self) -> int:
        """Delete deliveries finished (delivered or failed) longer ago than the settings keep
        them, with their attempts: the outbox would otherwise grow with every change."""
        cutoff = utcnow() - timedelta(days=self.settings.webhook_keep_days)
        with unit_of_work(self.engine) as session:
            result = session.execute(
                sa.delete(D).where(
                    col(D.state) != DeliveryState.pending, col(D.updated_at) < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    def claim(self, limit: int = BATCH) -> list[Claimed]:
        now = utcnow()
        lease = timedelta(seconds=self.settings.webhook_timeout_seconds + 60)
        with unit_of_work(self.engine) as session:
            active = sa.select(col(Webhook.id)).where(col(Webhook.active))
            ids = list(
                session.scalars(
                    sa.select(col(D.id))
                    .where(
                        col(D.state) == DeliveryState.pending,
                        col(D.next_attempt_at) <= now,
                        sa.or_(col(D.locked_until).is_(None), col(D.locked_until) < now),
                        col(D.webhook_id).in_(active),
                    )
                    .order_by(col(D.next_attempt_at), col(D.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            session.execute(
                sa.update(D)
                .where(col(D.id).in_(ids))
                .values(
                    locked_until=now + lease,
                    locked_by=self.name,
                    updated_at=now,
                    version=D.version + 1,
                )  # fmt: skip
            )
            rows = session.execute(
                sa.select(
                    col(D.id),
                    col(D.uuid),
                    col(D.event),
                    col(D.body),
                    col(Webhook.url),
                    col(Webhook.secret),
                )
                .join(Webhook, col(Webhook.id) == D.webhook_id)
                .where(col(D.id).in_(ids))
                .order_by(col(D.next_attempt_at), col(D.id))
            )
            return [Claimed(*row) for row in rows]

    def record(self, results: list[tuple[Claimed, Outcome]], tally: Tally) -> None:
        now = utcnow()
        with unit_of_work(self.engine) as session:
            for claimed, outcome in results:
                delivery = session.get(D, claimed.id)
                if delivery is None or delivery.locked_by != self.name:
                    continue  # its webhook was deleted, or the lease ran out and moved on
                delivery.attempt_count += 1
                session.add(
                    WebhookAttempt(
                        delivery_id=claimed.id,
                        number=delivery.attempt_count,
                        status_code=outcome.status_code,
                        error=outcome.error,
                        response_excerpt=outcome.excerpt,
                        duration_ms=outcome.duration_ms,
                    )
                )
                delivery.locked_by = delivery.locked_until = None
                if outcome.ok:
                    delivery.state, delivery.delivered_at = DeliveryState.delivered, now
                    delivery.next_attempt_at = None
                    tally.delivered += 1
                elif delivery.attempt_count >= self.settings.webhook_max_attempts:
                    delivery.state, delivery.next_attempt_at = DeliveryState.failed, None
                    tally.failed += 1
                else:
                    delivery.next_attempt_at = self.retry_at(now, delivery.attempt_count)
                    tally.retrying += 1
                session.add(delivery)

    def retry_at(self, now: datetime, attempts: int) -> datetime:
        """Exponential backoff: the base wait after the first failure, doubled after each."""
        wait = timedelta(seconds=self.settings.webhook_backoff_seconds * 2 ** (attempts - 1))
        return now + min(wait, MAX_BACKOFF)


def sign(secret: str, body: bytes) -> str:
    """The X-Optout-Signature value: hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client: httpx2.Client, claimed: Claimed) -> Outcome:
    body = claimed.body.encode()
    headers = {
        "Content-Type": "application/json",
        "X-Optout-Event": claimed.event,
        "X-Optout-Delivery": claimed.uuid,
        "X-Optout-Signature": sign(claimed.secret, body),
    }
    start = time.perf_counter()
    try:
        with client.stream("POST", claimed.url, content=body, headers=headers) as response:
            excerpt = _excerpt(response)
    except httpx2.HTTPError as exc:
        return Outcome(None, _describe(exc), None, _ms_since(start))
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(response.status_code, error, excerpt, _ms_since(start))


def _excerpt(response: httpx2.Response) -> str | None:
    # Only the start of the answer is read: a receiver cannot make us download a lot.
    head = b""
    for chunk in response.iter_raw():
        head += chunk
        if len(head) >= EXCERPT:
            break
    return head[:EXCERPT].decode("utf-8", "replace") or None


def _describe(exc: httpx2.HTTPError) -> str:
    kind = type(exc).__name__
    detail = str(exc).strip()
    return f"{kind}: {detail}"[:500] if detail else kind


def _ms_since(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)
