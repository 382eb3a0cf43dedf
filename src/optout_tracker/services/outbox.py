"""The webhook outbox: a transaction's events become deliveries in that same transaction.

Services `publish` events as they change records. Just before the session commits, each
event is matched against the active subscriptions and one delivery row is written per
match, so a change and its deliveries commit or roll back together; events published in a
savepoint that rolls back are dropped with it. The worker (webhook_worker.py) sends them.

The commit and rollback hooks are attached to a session by its first event, whoever made
it: a session into which nothing is published is left alone, and importing this module
changes no other.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, SQLModel, col

from .. import bulk
from ..db import in_chunks
from ..db_types import utcnow
from ..enums import PAST_TENSE, STATUS_CHANGED, AuditAction, CampaignStatus
from ..models import Jurisdiction, JurisdictionStatus, Webhook, WebhookDelivery
from ..schemas import ENTITIES
from . import public

PENDING = "optout.outbox"  # key in Session.info

Data = Callable[[Session], dict[str, Any]]


@dataclass(frozen=True)
class Event:
    name: str
    occurred_at: datetime
    data: Data  # called at commit, and only when a subscription wants the event
    transaction: SessionTransaction | None  # innermost at publishing, for rollbacks
    # The jurisdiction `data` shows, loaded with those of the other events in a few queries:
    # an import changes the status of thousands.
    jurisdiction_id: int | None = None


Shown = Callable[[Session, list[int]], list[dict[str, Any]]]  # records' payloads, by ids


@dataclass(frozen=True)
class Batch:
    """One event for each of many records, whose payloads are made at commit from their ids,
    a chunk at a time: an import of 100,000 records holds their ids, not their values."""

    name: str
    occurred_at: datetime
    ids: Sequence[int]
    shown: Shown  # called at commit, and only when a subscription wants the event
    transaction: SessionTransaction | None


BATCH = 500  # payloads made (one query: db.in_chunks' size), and deliveries written, at a time


def publish(session: Session, name: str, data: Data, jurisdiction_id: int | None = None) -> None:
    event = Event(name, utcnow(), data, _innermost(session), jurisdiction_id)
    _pending(session).append(event)


def publish_many(session: Session, name: str, ids: Sequence[int], shown: Shown) -> None:
    """The event `name` for each of these records (`shown` makes their payloads)."""
    if ids:
        _pending(session).append(Batch(name, utcnow(), ids, shown, _innermost(session)))


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _pending(session: Session) -> list[Event | Batch]:
    pending: list[Event | Batch] | None = session.info.get(PENDING)
    if pending is None:  # the session's first event: from now on its commits deliver
        pending = session.info[PENDING] = []
        sa.event.listen(session, "before_commit", _write_deliveries)
        sa.event.listen(session, "after_soft_rollback", _drop_rolled_back)
    return pending


def publish_change(session: Session, action: AuditAction, record: SQLModel) -> None:
    """`<entity>.created|updated|deleted` with the record as anyone may see it.

    Created and updated records are shown as they stand at commit; a deleted one as it was.
    """
    entity = record.__tablename__
    if entity not in ENTITIES:
        return
    name = f"{entity}.{PAST_TENSE[action]}"
    if action is AuditAction.delete:
        gone = visible(session, record)
        publish(session, name, lambda _: gone)
    else:
        publish(session, name, lambda s: visible(s, record))


def publish_status_change(
    session: Session, jurisdiction_id: int, old: CampaignStatus, new: CampaignStatus
) -> None:
    def data(s: Session) -> dict[str, Any]:
        j = s.get(Jurisdiction, jurisdiction_id)
        shown = visible(s, j) if j is not None else {"id": jurisdiction_id}
        return {"old_status": old.value, "new_status": new.value, "jurisdiction": shown}

    publish(session, STATUS_CHANGED, data, jurisdiction_id)


def body(name: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The JSON every receiver gets; these exact bytes are signed."""
    when = occurred_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps(
        {"event": name, "occurred_at": when, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def delivery_row(
    webhook_id: int, name: str, payload: str, message_id: str | None = None
) -> dict[str, Any]:
    """A new delivery's own values; the model's defaults make it pending and due at once.
    An event's first delivery names its message (`webhook-id`) after itself; a redelivery
    keeps the message id of the one it repeats."""
    uuid = str(uuid4())
    return {
        "webhook_id": webhook_id,
        "uuid": uuid,
        "message_id": message_id or uuid,
        "event": name,
        "body": payload,
    }


def wants(webhook: Webhook, name: str) -> bool:
    return "*" in webhook.events or name in webhook.events


def visible(session: Session, record: SQLModel) -> dict[str, Any]:
    """A record as its events show it: payloads leave the building, so never a private
    field, whoever made the change."""
    return public.of(session, record).hide_private().model_dump(mode="json")


def _write_deliveries(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is released: its events wait for the outer commit
    events: list[Event | Batch] = session.info.get(PENDING, [])
    if not events:
        return
    session.info[PENDING] = []
    hooks = list(session.scalars(sa.select(Webhook).where(col(Webhook.active))))
    wanted = [(e, [h for h in hooks if wants(h, e.name)]) for e in events]
    wanted = [(event, targets) for event, targets in wanted if targets]
    shown = {e.jurisdiction_id for e, _ in wanted if isinstance(e, Event) and e.jurisdiction_id}
    held = load_jurisdictions(session, shown)  # session.get finds them while they are held
    rows: list[dict[str, Any]] = []
    for event, targets in wanted:
        if isinstance(event, Event):
            payload = body(event.name, event.occurred_at, event.data(session))
            rows += [delivery_row(h.id or 0, event.name, payload) for h in targets]
            continue
        for start in range(0, len(event.ids), BATCH):
            for data in event.shown(session, list(event.ids[start : start + BATCH])):
                payload = body(event.name, event.occurred_at, data)
                rows += [delivery_row(h.id or 0, event.name, payload) for h in targets]
            if len(rows) >= BATCH:
                _insert_deliveries(session, rows)
                rows = []
    del held
    _insert_deliveries(session, rows)


def _insert_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    # Every other column as the model makes a new delivery: pending, due now, unclaimed.
    own = delivery_row(0, "", "")
    pending = WebhookDelivery(**own).model_dump(exclude={"id", *own})
    bulk.insert_many(session, WebhookDelivery.__table__, rows, pending)  # type: ignore[attr-defined]


def load_jurisdictions(session: Session, ids: set[int]) -> list[SQLModel]:
    """Those of these jurisdictions and their status rows that the session does not hold yet,
    in a few queries."""
    loaded: list[SQLModel] = []
    for model, key in (
        (Jurisdiction, Jurisdiction.id),
        (JurisdictionStatus, JurisdictionStatus.jurisdiction_id),
    ):
        held = session.identity_map
        absent = [i for i in ids if held.get(identity_key(model, i)) is None]
        for chunk in in_chunks(absent):
            loaded += session.scalars(sa.select(model).where(col(key).in_(chunk)))
    return loaded


def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    events: list[Event | Batch] = session.info.get(PENDING, [])
    if events:
        session.info[PENDING] = [e for e in events if not _within(e.transaction, previous)]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
