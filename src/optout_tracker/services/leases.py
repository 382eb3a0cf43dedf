"""Claiming outbox rows (webhook deliveries, mail) for a worker: several workers, on one
machine or many, share the outbox and never take the same row at once."""

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..enums import DeliveryState
from ..models import MailMessage, WebhookDelivery

Outbox = type[WebhookDelivery] | type[MailMessage]


def lease(
    session: Session,
    table: Outbox,
    *,
    now: datetime,
    hold: timedelta,
    worker: str,
    limit: int,
    where: tuple[sa.ColumnElement[bool], ...] = (),
) -> list[int]:
    """Up to `limit` pending rows due by `now` (and matching `where`), oldest due first,
    that no other worker holds: held by `worker` for `hold`, their attempt counted. On
    PostgreSQL, `SKIP LOCKED` lets a second worker pass over the rows a first is leasing
    (SQLite's writer lock serialises them)."""
    due = (
        sa.select(col(table.id))
        .where(
            col(table.state) == DeliveryState.pending,
            col(table.next_attempt_at) <= now,
            sa.or_(col(table.locked_until).is_(None), col(table.locked_until) < now),
            *where,
        )
        .order_by(col(table.next_attempt_at), col(table.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [i for i in session.scalars(due) if i is not None]
    if ids:
        values: dict[str, Any] = {
            "locked_until": now + hold,
            "locked_by": worker,
            "attempt_count": table.attempt_count + 1,
            "updated_at": now,
            "version": table.version + 1,
        }
        session.execute(sa.update(table).where(col(table.id).in_(ids)).values(**values))
    return ids
