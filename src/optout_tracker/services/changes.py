"""The changes feed (/api/v1/changes): every record of the public kinds created, updated and
deleted, in the order it happened, read off the audit log, so that a partner keeps a copy in
sync, deletions included, with a read key or none."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..enums import AuditAction
from ..models import AuditEntry
from ..schemas import KINDS, PRIVATE_COLUMNS, Change, ChangesPage

ENTITIES = [kind.entity for kind in KINDS]
ACTIONS = {
    AuditAction.create: "created",
    AuditAction.update: "updated",
    AuditAction.delete: "deleted",
}


def after(session: Session, cursor: int, limit: int, *, private: bool) -> ChangesPage:
    """Up to `limit` changes after `cursor`. For a caller who may not read private fields
    (`private` false), an edit of private fields only is no change: it is skipped, and the
    log read on until `limit` are found or it ends."""
    items: list[Change] = []
    last = cursor
    while len(items) < limit:
        batch = list(session.execute(_entries(last, limit)))
        for entry in batch:
            last = entry.id
            if private or entry.action != AuditAction.update or _public(entry.changes):
                items.append(_change(entry))
                if len(items) == limit:
                    break
        if len(batch) < limit:
            break
    return ChangesPage(items=items, next_cursor=str(last) if last else None)


def _entries(cursor: int, limit: int) -> sa.Select[Any]:
    a = AuditEntry
    columns = (a.id, a.entity, a.entity_id, a.action, a.created_at, a.jurisdiction_id, a.changes)
    return (
        sa.select(*(col(c) for c in columns))
        .where(col(a.id) > cursor, col(a.entity).in_(ENTITIES))
        .order_by(col(a.id))
        .limit(limit)
    )


def _public(changes: dict[str, Any]) -> bool:
    return not set(changes) <= PRIVATE_COLUMNS


def _change(entry: Any) -> Change:
    return Change(
        cursor=str(entry.id),
        entity=entry.entity,
        id=entry.entity_id,
        action=ACTIONS[entry.action],
        at=entry.created_at,
        jurisdiction_id=entry.jurisdiction_id,
    )
