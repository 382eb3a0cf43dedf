"""The mail worker: claims due messages of the outbox, sends them over SMTP, retries with
backoff; and once a day queues the alerts of answers falling due and the digests due.

A claim is a short transaction that leases messages (`SELECT … FOR UPDATE SKIP LOCKED` on
PostgreSQL, like the webhook deliveries; SQLite serialises writers). Sending happens
outside any transaction; its outcome is written in its own. A message the server accepted
is marked sent at once and never claimed again; if the worker dies between the two, the
lease runs out and the message goes again (at most once more, never lost).
"""

import email.policy
import logging
import os
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col

from .clock import today
from .config import Settings
from .db import unit_of_work
from .db_types import utcnow
from .enums import Alerts, DeliveryState
from .models import MailMessage
from .services import digests, leases, mail

log = logging.getLogger(__name__)
BATCH = 20
MAX_BACKOFF = timedelta(hours=6)
M = MailMessage
# Long header lines as they are (RFC 5322 allows 998 characters): folded, a List-Unsubscribe
# URL longer than a line would become an encoded word that mail clients cannot follow.
POLICY = email.policy.default.clone(max_line_length=998)


@dataclass(frozen=True)
class Claimed:
    id: int
    to_address: str
    subject: str
    text_body: str
    html_body: str
    unsubscribe_url: str | None
    key: str


@dataclass
class MailTally:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} mails sent, {self.retrying} to retry, {self.failed} failed"


def message(settings: Settings, claimed: Claimed) -> EmailMessage:
    """The message as sent: text with an HTML alternative, and the one-click unsubscribe
    headers of RFC 8058 (and RFC 2369's mailto for clients without it)."""
    m = EmailMessage(policy=POLICY)
    m["From"] = settings.mail_from
    m["To"] = claimed.to_address
    m["Subject"] = claimed.subject
    m["Date"] = format_datetime(utcnow())
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or None
    m["Message-ID"] = make_msgid("optout", domain=sender_domain)
    m["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    if claimed.unsubscribe_url:
        sender = parseaddr(settings.mail_from)[1]
        m["List-Unsubscribe"] = (
            f"<{claimed.unsubscribe_url}>, <mailto:{sender}?subject=unsubscribe>"
        )
        m["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    m.set_content(claimed.text_body)
    m.add_alternative(claimed.html_body, subtype="html")
    return m


def smtp_send(settings: Settings, m: EmailMessage) -> None:
    """Send over OPTOUT_SMTP_URL: smtps:// implicit TLS; smtp:// STARTTLS, unless ?tls=off
    (a relay on the same host)."""
    assert settings.smtp_url is not None
    url = urlsplit(settings.smtp_url)
    tls = parse_qs(url.query).get("tls", ["on"])[-1] != "off"
    host, timeout = url.hostname or "localhost", settings.mail_timeout_seconds
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if url.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, url.port or 465, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, url.port or (587 if tls else 25), timeout=timeout)
    with server:
        if url.scheme == "smtp" and tls:
            server.starttls(context=context)
        if url.username:
            server.login(unquote(url.username), unquote(url.password or ""))
        server.send_message(m)


@dataclass
class MailWorker:
    engine: Engine
    settings: Settings
    name: str = field(
        default_factory=lambda: f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid4().hex[:8]}"
    )
    daily_done_on: date | None = None  # the last day `daily` ran in this worker

    def run(self, *, once: bool = False, stop: threading.Event | None = None,
            poll_seconds: float = 1.0) -> MailTally:  # fmt: skip
        """Send until stopped; with `once`, until nothing is due, then return."""
        stop = stop or threading.Event()
        tally = MailTally()
        while not stop.is_set():
            try:
                claimed = self._step(tally)
            except sa.exc.SQLAlchemyError:
                if once:
                    raise
                # The database went away for a moment: what was leased comes back when the
                # lease runs out; keep going.
                log.exception("the mail worker could not reach the database")
                claimed = False
            if not claimed:
                if once:
                    break
                stop.wait(poll_seconds)
        return tally

    def _step(self, tally: MailTally) -> bool:
        """Today's queueing if not done yet, then one batch: whether there was one."""
        if self.daily_done_on != today():
            self.daily(today())
            self.daily_done_on = today()
        claimed = self.claim()
        for c in claimed:
            self.deliver(c, tally)
        return bool(claimed)

    def daily(self, on: date) -> None:
        """The day's queueing: answers falling due soon and overdue, the daily digests, and
        on Mondays the weekly ones. Keys make a second run (another worker, a restart)
        queue nothing."""
        if not self.settings.mail_on:
            return
        with unit_of_work(self.engine) as session:
            mail.answers_due_soon(session, on)
            mail.answers_overdue(session, on)
        due = [Alerts.daily] + ([Alerts.weekly] if on.weekday() == 0 else [])
        for frequency in due:
            with unit_of_work(self.engine) as session:
                digests.queue_digests(
                    session, self.settings, digests.digests(session, self.settings, frequency, on)
                )

    def deliver(self, claimed: Claimed, tally: MailTally) -> DeliveryState | None:
        error = None
        try:
            smtp_send(self.settings, message(self.settings, claimed))
        except (smtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("mail %s to %s not sent: %s", claimed.key, claimed.to_address, error)
        state = self.finish(claimed, error)
        if state is DeliveryState.delivered:
            tally.sent += 1
        elif state is DeliveryState.pending:
            tally.retrying += 1
        elif state is DeliveryState.failed:
            tally.failed += 1
        return state

    def claim(self, limit: int = BATCH) -> list[Claimed]:
        """Lease up to `limit` due messages, counting the attempt."""
        if not self.settings.mail_on:
            return []
        now = utcnow()
        lease = timedelta(seconds=self.settings.mail_timeout_seconds * 3 + 60)
        with unit_of_work(self.engine) as session:
            ids = leases.lease(session, M, now=now, hold=lease, worker=self.name, limit=limit)
            if not ids:
                return []
            rows = session.scalars(
                sa.select(M).where(col(M.id).in_(ids)).order_by(col(M.next_attempt_at), col(M.id))
            )
            return [
                Claimed(
                    m.id or 0,
                    m.to_address,
                    m.subject,
                    m.text_body,
                    m.html_body,
                    m.unsubscribe_url,
                    m.key,
                )  # fmt: skip
                for m in rows
            ]

    def finish(self, claimed: Claimed, error: str | None) -> DeliveryState | None:
        """Sent, to retry later, or failed for good; None when the lease ran out (another
        worker has the message now)."""
        now = utcnow()
        with unit_of_work(self.engine) as session:
            m = session.get(M, claimed.id, with_for_update=True)
            if m is None or m.locked_by != self.name:
                return None
            m.locked_by = m.locked_until = None
            if error is None:
                m.state, m.sent_at, m.next_attempt_at, m.last_error = (
                    DeliveryState.delivered, now, None, None,
                )  # fmt: skip
            else:
                m.last_error = error
                if m.attempt_count >= self.settings.mail_max_attempts:
                    m.state, m.next_attempt_at = DeliveryState.failed, None
                else:
                    m.next_attempt_at = self.retry_at(now, m.attempt_count)
            session.add(m)
            return m.state

    def retry_at(self, now: datetime, attempts: int) -> datetime:
        wait = timedelta(seconds=self.settings.mail_backoff_seconds * 2 ** (attempts - 1))
        return now + min(wait, MAX_BACKOFF)
