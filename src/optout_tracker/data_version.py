"""The data version: one token that changes with every commit that changes public data.

What is derived from the records and kept (rendered answers in http/public_cache.py, another
day's statuses in services/status_as_of.py, the maps and their pictures, the national
timeline) is kept under this token. Read it first, before the data: what is kept under a
token is then never older than the token says (at worst newer, and the next reader, who
reads the newer token, does not find it).

The token is one row of its own table, so that every app process on the database sees any
process's write at its next read, at the cost of one primary-key read.

A transaction is marked as changing public data when it flushes a new, changed or deleted
row of any table but those no public answer shows (UNSEEN); writes made with statements
rather than objects (bulk inserts: an import's audit entries, new status rows, the seed's
jurisdictions) mark it themselves (`changed`). The token is replaced as the
transaction commits (a `before_commit` hook on every session), after its other writes: on
PostgreSQL its row is then locked only while the transaction commits, so writers never wait
on it for a whole transaction, nor deadlock over it.

It is random rather than a counter. A rolled-back transaction leaves the token as it was;
a counter would give the next write the number the rolled-back one had already shown (the
tests roll back every test), naming two different states of the data with one version.
"""

import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from itertools import chain
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col

from . import models
from .models import DataVersion

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

CHANGED = "optout.data_changed"  # session.info key: this transaction changes public data
ROW = 1
# Tables no public answer shows: writing them (a sign-in, a delivery) changes no public data.
# A new table is public until it is listed here, so that forgetting it costs a cache miss.
UNSEEN = (
    models.ApiKey,
    models.DatasetRecord,
    models.DataVersion,
    models.Follow,
    models.IdempotencyKey,
    models.LoginThrottle,
    models.MailMessage,
    models.User,
    models.UserSession,
    models.Webhook,
    models.WebhookAttempt,
    models.WebhookDelivery,
)


def changed(session: Session) -> None:
    """Say that this transaction changes public data: its commit replaces the token."""
    session.info[CHANGED] = True


def current(session: Session) -> int:
    """The token of the committed data, read in this session's transaction.

    A transaction that has changed data reads what it has not committed (and may never):
    it gets a new token of its own at each call, which names nothing kept before and is
    never asked for again, so what it derives is kept for no one."""
    session.flush()  # what the transaction wrote but did not flush yet marks it too
    if session.info.get(CHANGED):
        return _new_token()
    token = session.scalar(sa.select(col(DataVersion.token)).where(col(DataVersion.id) == ROW))
    return 0 if token is None else token  # no row: nothing was written since it went


def _new_token() -> int:
    return secrets.randbits(63)  # a positive BIGINT


@sa.event.listens_for(Session, "before_flush")
def _mark_if_public_rows(session: Session, _context: Any, _instances: Any) -> None:
    dirty = (o for o in session.dirty if session.is_modified(o))
    if any(not isinstance(o, UNSEEN) for o in chain(session.new, session.deleted, dirty)):
        changed(session)


@sa.event.listens_for(Session, "before_commit")
def _replace_token(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is released: the token waits for the transaction's commit
    if not session.info.pop(CHANGED, False):
        return
    session.flush()  # the transaction's own writes first: the token's row is locked last
    table = DataVersion.__table__  # type: ignore[attr-defined]
    token = _new_token()
    replaced = session.execute(sa.update(table).where(table.c.id == ROW).values(token=token))
    if not replaced.rowcount:  # type: ignore[attr-defined]
        session.execute(sa.insert(table).values(id=ROW, token=token))


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_mark(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's whole transaction, committed or not
        session.info.pop(CHANGED, None)


class Kept(Generic[K, V]):
    """Values derived from the data (a drawn map, another day's statuses), kept for one
    version: keeping a value of another version drops those of the version before, which no
    one asks for again (a process that kept the last few versions' maps held 40 MB of them
    after a load test). At most `most` values, the least recently used going first.
    Thread-safe: routes run in worker threads."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._version: Hashable = None
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: Hashable, key: K) -> V | None:
        with self._lock:
            if version != self._version or (found := self._values.get(key)) is None:
                return None
            self._values.move_to_end(key)
            return found

    def put(self, version: Hashable, key: K, value: V) -> None:
        with self._lock:
            if version != self._version:
                self._values.clear()
                self._version = version
            self._values[key] = value
            while len(self._values) > self.most:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._version = None
