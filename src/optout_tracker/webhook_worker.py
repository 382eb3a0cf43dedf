"""The webhook worker: claims due deliveries, POSTs them signed, and records every attempt.

A claim is a short transaction that leases deliveries (`SELECT … FOR UPDATE SKIP LOCKED` on
PostgreSQL, so concurrent workers take disjoint ones; SQLite serialises writers anyway) and
writes each one's attempt row, so an attempt cut short by a crash stays visible as started
without an outcome. The POSTs happen outside any transaction, each within one deadline for
everything (resolving, connecting, sending, the answer's headers and excerpt), and each
outcome is written as soon as it is known, in its own transaction; a freed slot takes the
next due delivery at once, so one slow receiver holds up nothing else. If a worker dies, its
lease runs out and another worker sends those deliveries again, with the same delivery id;
an outcome that comes back after its lease ran out is ignored.
"""

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import version
from uuid import uuid4

import httpx2
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from . import netguard
from .config import Settings
from .db import unit_of_work
from .db_types import utcnow
from .enums import DeliveryState
from .models import Webhook, WebhookAttempt, WebhookDelivery
from .services import idempotency, leases, status_projection

log = logging.getLogger(__name__)
BATCH = 8  # deliveries in flight at once
EXCERPT = 500  # bytes of the receiver's answer kept with the attempt
MAX_BACKOFF = timedelta(hours=6)
PRUNE_EVERY_SECONDS = 3600
# What an attempt says from its claim until its outcome is written: if that never happens,
# the worker stopped during it.
IN_FLIGHT = "no outcome recorded: in flight, or the worker stopped during it"
# Answers whose start is kept for admins to read: text, never bytes of some binary format.
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/problem+")
# A secret in the Standard Webhooks form: "whsec_", then its key in base64 (the standard
# alphabet, the one the spec's libraries decode).
STANDARD_SECRET = re.compile(r"whsec_([A-Za-z0-9+/]+)={0,2}")
D = WebhookDelivery


@dataclass(frozen=True)
class Claimed:
    id: int
    uuid: str
    message_id: str
    event: str
    body: str
    url: str
    secret: str
    attempt_id: int


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

    def count(self, state: DeliveryState | None) -> None:
        if state is DeliveryState.delivered:
            self.delivered += 1
        elif state is DeliveryState.pending:
            self.retrying += 1
        elif state is DeliveryState.failed:
            self.failed += 1


@dataclass
class Worker:
    engine: Engine
    settings: Settings
    name: str = field(
        default_factory=lambda: f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid4().hex[:8]}"
    )

    # How deliveries find their receiver's addresses; a test may stand in for DNS.
    resolver: netguard.Resolver = netguard.resolve

    def run(self, *, once: bool = False, stop: threading.Event | None = None,
            poll_seconds: float = 1.0) -> Tally:  # fmt: skip
        """Deliver until stopped; with `once`, until nothing is due, then return."""
        return asyncio.run(self._run(once, stop or threading.Event(), poll_seconds))

    async def _run(self, once: bool, stop: threading.Event, poll_seconds: float) -> Tally:
        tally = Tally()
        in_flight: set[asyncio.Task[None]] = set()
        pruned_at = -float("inf")
        async with self._client() as client:
            try:
                while not stop.is_set():
                    if time.monotonic() - pruned_at > PRUNE_EVERY_SECONDS:
                        await asyncio.to_thread(self.prune)
                        await asyncio.to_thread(self.forget_old_answers)
                        # And, on a new day, the statuses whose upcoming event's date has come:
                        # their change goes out within the hour even if no one reads them.
                        await asyncio.to_thread(status_projection.keep_current, self.engine)
                        pruned_at = time.monotonic()
                    free = BATCH - len(in_flight)
                    for claimed in await asyncio.to_thread(self.claim, free) if free else []:
                        in_flight.add(asyncio.create_task(self._deliver(client, claimed, tally)))
                    if in_flight:
                        done, in_flight = await asyncio.wait(
                            in_flight, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED
                        )
                        for task in done:
                            if error := task.exception():
                                # The database failed to take an outcome: log it and go on;
                                # the lease runs out and the delivery is sent again.
                                log.error("recording a webhook attempt failed", exc_info=error)
                    elif once:
                        break
                    else:
                        await asyncio.to_thread(stop.wait, poll_seconds)
            finally:
                # Stopping lets the attempts in flight finish (each within its deadline).
                if in_flight:
                    await asyncio.wait(in_flight)
        return tally

    def _client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            timeout=None,  # `post` keeps one deadline for the whole attempt instead
            follow_redirects=False,
            # Connections go to addresses, each TLS one made for one receiver's name: none
            # may serve another subscription that happens to share the address.
            limits=httpx2.Limits(max_keepalive_connections=0),
            # A proxy from the environment would resolve names itself, past the guard.
            trust_env=False,
            headers={"User-Agent": f"optout-tracker/{version('optout-tracker')}"},
        )

    async def _deliver(self, client: httpx2.AsyncClient, claimed: Claimed, tally: Tally) -> None:
        outcome = await self.post(client, claimed)
        tally.count(await asyncio.to_thread(self.finish, claimed, outcome))

    async def post(self, client: httpx2.AsyncClient, claimed: Claimed) -> Outcome:
        """One attempt, within the deadline, to an address the guard has just checked."""
        body = claimed.body.encode()
        deadline = self.settings.webhook_timeout_seconds
        start = time.perf_counter()
        try:
            async with asyncio.timeout(deadline):
                target = await netguard.target(
                    claimed.url,
                    allow_private=self.settings.webhook_allow_private,
                    resolver=self.resolver,
                )
                # Each attempt's own time: a receiver refuses one that is too old (a replay).
                timestamp = str(int(time.time()))
                headers = {
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "X-Optout-Event": claimed.event,
                    "X-Optout-Delivery": claimed.uuid,
                    "X-Optout-Signature": sign(claimed.secret, body),
                    "webhook-id": claimed.message_id,
                    "webhook-timestamp": timestamp,
                    "webhook-signature": sign_standard(
                        claimed.secret, claimed.message_id, timestamp, body
                    ),
                }
                async with client.stream(
                    "POST", target.url, content=body, headers=headers, extensions=target.extensions
                ) as response:
                    # A private receiver's answer may be some internal service's: never kept.
                    excerpt = await _excerpt(response) if target.public else None
        except netguard.Refused as exc:
            return Outcome(None, f"refused: {exc}", None, _ms_since(start))
        except TimeoutError:
            return Outcome(None, f"timed out after {deadline:g} s", None, _ms_since(start))
        except httpx2.HTTPError as exc:
            return Outcome(None, _describe(exc), None, _ms_since(start))
        except netguard.Unresolved as exc:
            return Outcome(None, str(exc)[:500], None, _ms_since(start))
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return Outcome(response.status_code, error, excerpt, _ms_since(start))

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

    def forget_old_answers(self) -> int:
        """Delete the Idempotency-Key answers and form-token claims past their keeping."""
        with unit_of_work(self.engine) as session:
            return idempotency.forget_old(session)

    def claim(self, limit: int = BATCH) -> list[Claimed]:
        """Lease up to `limit` due deliveries and write each one's attempt, as started."""
        now = utcnow()
        lease = timedelta(seconds=self.settings.webhook_timeout_seconds + 60)
        with unit_of_work(self.engine) as session:
            active = sa.select(col(Webhook.id)).where(col(Webhook.active))
            ids = leases.lease(
                session, D, now=now, hold=lease, worker=self.name, limit=limit,
                where=(col(D.webhook_id).in_(active),),
            )  # fmt: skip
            if not ids:
                return []
            rows = session.execute(
                sa.select(D, col(Webhook.url), col(Webhook.secret))
                .join(Webhook, col(Webhook.id) == D.webhook_id)
                .where(col(D.id).in_(ids))
                .order_by(col(D.next_attempt_at), col(D.id))
            ).all()
            attempts = [
                WebhookAttempt(delivery_id=d.id, number=d.attempt_count, error=IN_FLIGHT)
                for d, _, _ in rows
            ]
            session.add_all(attempts)
            session.flush()
            return [
                Claimed(d.id, d.uuid, d.message_id, d.event, d.body, url, secret, attempt.id or 0)
                for (d, url, secret), attempt in zip(rows, attempts, strict=True)
            ]

    def finish(self, claimed: Claimed, outcome: Outcome) -> DeliveryState | None:
        """Write an attempt's outcome and what follows for its delivery (delivered, retry
        later, failed); None when the lease ran out, and with it this worker's say."""
        now = utcnow()
        with unit_of_work(self.engine) as session:
            # Locked, so that no other worker claims it between this check and the write.
            delivery = session.get(D, claimed.id, with_for_update=True)
            # The attempt is this worker's whatever became of the lease: its outcome is kept.
            attempt = session.get(WebhookAttempt, claimed.attempt_id)
            if attempt is not None:  # None: deleted with its webhook
                attempt.status_code, attempt.error = outcome.status_code, outcome.error
                attempt.response_excerpt = outcome.excerpt
                attempt.duration_ms = outcome.duration_ms
                session.add(attempt)
            if (
                delivery is None  # its webhook was deleted
                or delivery.locked_by != self.name
                or delivery.locked_until is None
                or delivery.locked_until < now
            ):
                return None
            delivery.locked_by = delivery.locked_until = None
            if outcome.ok:
                delivery.state, delivery.delivered_at = DeliveryState.delivered, now
                delivery.next_attempt_at = None
            elif delivery.attempt_count >= self.settings.webhook_max_attempts:
                delivery.state, delivery.next_attempt_at = DeliveryState.failed, None
            else:
                delivery.next_attempt_at = self.retry_at(now, delivery.attempt_count)
            session.add(delivery)
            return delivery.state

    def retry_at(self, now: datetime, attempts: int) -> datetime:
        """Exponential backoff: the base wait after the first failure, doubled after each."""
        wait = timedelta(seconds=self.settings.webhook_backoff_seconds * 2 ** (attempts - 1))
        return now + min(wait, MAX_BACKOFF)


def sign(secret: str, body: bytes) -> str:
    """The X-Optout-Signature value: hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_standard(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """The webhook-signature value (Standard Webhooks, v1): base64 HMAC-SHA256 of
    "{webhook-id}.{webhook-timestamp}.{body}"."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_key(secret: str) -> bytes:
    """The key of webhook-signature. A secret in the Standard Webhooks form (as generated
    ones are) stands for the bytes it encodes, as the spec's libraries read it, so that it is
    pasted into them as it is; any other secret is its own bytes, as X-Optout-Signature
    uses it (the libraries take it as raw bytes, or as "whsec_" + its base64)."""
    if match := STANDARD_SECRET.fullmatch(secret):
        digits = match[1]
        try:
            return base64.b64decode(digits + "=" * (-len(digits) % 4), validate=True)
        except binascii.Error:  # 4n + 1 digits: no base64 has that length
            pass
    return secret.encode()


async def _excerpt(response: httpx2.Response) -> str | None:
    """The start of a text answer; nothing of any other: only so much is read."""
    content_type = response.headers.get("content-type", "").lower()
    if not content_type.startswith(TEXT_TYPES) and "+json" not in content_type:
        return None
    head = b""
    async for chunk in response.aiter_raw():
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
