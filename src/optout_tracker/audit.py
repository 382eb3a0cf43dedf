"""The audit log: who changed what, with each changed field before and after."""

from typing import Any

from sqlmodel import Session, SQLModel

from .enums import ActorKind, AuditAction
from .models import AuditEntry, Jurisdiction
from .security import Principal

UNAUDITED = frozenset({"created_at", "updated_at", "version"})


def snapshot(record: SQLModel) -> dict[str, Any]:
    """The record's fields as JSON would show them."""
    return record.model_dump(mode="json", exclude=set(UNAUDITED))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(before.keys() | after.keys())
        if before.get(k) != after.get(k)
    }


def record(
    session: Session,
    actor: Principal,
    action: AuditAction,
    entity: SQLModel,
    before: dict[str, Any] | None,
) -> AuditEntry:
    """Write the entry for a change just flushed; `before` is None for a create."""
    after = {} if action is AuditAction.delete else snapshot(entity)
    jurisdiction_id = (
        entity.id if isinstance(entity, Jurisdiction) else getattr(entity, "jurisdiction_id", None)
    )
    entry = AuditEntry(
        actor_kind=actor.kind or ActorKind.cli,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        entity=entity.__tablename__,  # type: ignore[arg-type]
        entity_id=getattr(entity, "id", 0) or 0,
        jurisdiction_id=jurisdiction_id,
        changes=diff(before or {}, after),
    )
    session.add(entry)
    return entry
