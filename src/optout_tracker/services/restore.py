"""Undoing a delete: a deleted vote, letter or response made again from its audit entry.

The audit entry of a delete holds every field the record had (before → nothing). A restore
creates the record anew from those values, through the kind's own create (the same checks,
audit entry, webhook event and status refresh as the API's POST), under a new id: ids are
never reused, so a partner that synced the deletion never mistakes it for the old record.
Its create entry says which entry it was restored from, which also keeps it from being
restored twice.
"""

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, SQLModel, col

from ..enums import AuditAction
from ..errors import Conflict, InvalidInput, NotFound
from ..i18n import Sentence
from ..models import Agency, AuditEntry, Jurisdiction, Letter
from ..schemas import LETTERS, RESPONSES, VOTES, RecordKind
from ..security import Principal
from . import kinds

RESTORABLE = {kind.entity: kind for kind in (VOTES, LETTERS, RESPONSES)}
RESTORED_FROM = "restored_from_entry"  # in a restore's create entry: [None, the entry's id]
# The records a deleted one may refer to, by field: restoring without them would be refused.
REFERENCES: dict[str, tuple[type[SQLModel], str]] = {
    "jurisdiction_id": (Jurisdiction, "jurisdiction"),
    "agency_id": (Agency, "agency"),
    "letter_id": (Letter, "letter it answered"),
    "follows_letter_id": (Letter, "letter it followed"),
}


def _restored_from() -> Any:
    return col(AuditEntry.changes)[(RESTORED_FROM, 1)].as_integer()


def restored(session: Session, entries: Iterable[AuditEntry]) -> dict[int, int]:
    """Of these delete entries, those restored already: {entry id: the new record's id}."""
    ids = [e.id for e in entries if e.action is AuditAction.delete and e.entity in RESTORABLE]
    if not ids:
        return {}
    rows = session.execute(
        sa.select(_restored_from(), col(AuditEntry.entity_id)).where(
            col(AuditEntry.action) == AuditAction.create,
            col(AuditEntry.entity).in_(RESTORABLE),
            col(AuditEntry.id) > min(i or 0 for i in ids),
            _restored_from().in_(ids),
        )
    )
    return dict(rows.all())


def restorable(session: Session, entries: Iterable[AuditEntry]) -> set[int]:
    """The ids of these entries that `restore` would take: deletes of a vote, letter or
    response not restored yet."""
    listed = list(entries)
    done = restored(session, listed)
    return {
        e.id or 0
        for e in listed
        if e.action is AuditAction.delete and e.entity in RESTORABLE and e.id not in done
    }


def kind_of(entry: AuditEntry) -> RecordKind:
    """The kind of record a delete entry can bring back; a Conflict for any other entry."""
    if entry.action is not AuditAction.delete or entry.entity not in RESTORABLE:
        raise Conflict(
            f"entry {entry.id} is not the deletion of a vote, letter or response: "
            "only those can be restored"
        )
    return RESTORABLE[entry.entity]


def restore(
    session: Session, entry_id: int, actor: Principal, *, response_window_days: int
) -> tuple[RecordKind, SQLModel]:
    """Create again the record whose deletion `entry_id` recorded, under a new id; a
    Conflict if it was restored already or what it referred to is gone."""
    entry = session.get(AuditEntry, entry_id)
    if entry is None:
        raise NotFound(Sentence("no audit entry with id {id}", id=str(entry_id)))
    kind = kind_of(entry)
    name = f"{kind.entity} {entry.entity_id}"
    if done := restored(session, [entry]):
        raise Conflict(
            Sentence(
                "{name} was restored already, as {entity} {id}",
                name=name,
                entity=kind.entity,
                id=str(done[entry_id]),
            )
        )
    values = {k: before for k, (before, _after) in entry.changes.items() if k != "id"}
    for field, (model, what) in REFERENCES.items():
        ref = values.get(field)
        if ref is not None and session.get(model, ref) is None:
            raise Conflict(
                f"{name} cannot be restored: the {what} ({model.__tablename__} {ref}) "
                "was deleted since"
            )
    try:
        payload = kind.create.model_validate(values)
    except ValidationError as exc:  # a rule made since it was written, say
        raise Conflict(f"{name} cannot be restored as it was: {exc.errors()[0]['msg']}") from exc
    try:
        with session.begin_nested():
            window = response_window_days
            record = kinds.create(session, kind, payload, actor, response_window_days=window)
    except InvalidInput as exc:  # e.g. a response received before its letter, moved since
        refusal = Sentence(
            "{name} cannot be restored as it was: {reason}", name=name, reason=exc.detail
        )
        raise Conflict(refusal) from exc
    created = session.scalars(
        sa.select(AuditEntry).where(
            col(AuditEntry.action) == AuditAction.create,
            col(AuditEntry.entity) == kind.entity,
            col(AuditEntry.entity_id) == getattr(record, "id", None),
        )
    ).one()
    created.changes = {**created.changes, RESTORED_FROM: [None, entry_id]}
    session.add(created)
    session.flush()
    return kind, record
