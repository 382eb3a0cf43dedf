"""The audit log: who changed what, with each changed field before and after."""

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from sqlmodel import Session, SQLModel

from . import bulk, data_version
from .enums import ActorKind, AuditAction
from .models import AuditEntry, Follow, Jurisdiction
from .security import Principal

# A document's bytes: its size and sha256 say what they were, in a few bytes instead of megabytes.
UNAUDITED = frozenset({"created_at", "updated_at", "version", "content"})
# Said to have changed, never shown: a password's or key's hash, a key's lookup prefix, a
# webhook's signing secret.
SECRET = frozenset({"password_hash", "key_hash", "prefix", "secret"})
HIDDEN = "(secret)"


def snapshot(record: BaseModel, *, exclude_none: bool = False) -> dict[str, Any]:
    """The record's fields as JSON would show them (`exclude_none`: those with a value)."""
    return record.model_dump(mode="json", exclude=set(UNAUDITED), exclude_none=exclude_none)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    if not before:  # a create: every field that has a value
        changed = {k: [None, v] for k, v in sorted(after.items()) if v is not None}
    else:
        changed = {
            k: [before.get(k), after.get(k)]
            for k in sorted(before.keys() | after.keys())
            if before.get(k) != after.get(k)
        }
    if SECRET.isdisjoint(changed):  # most records have no secret: no second pass (imports)
        return changed
    return {k: [_hidden(v) for v in pair] if k in SECRET else pair for k, pair in changed.items()}


def _hidden(value: Any) -> Any:
    return None if value is None else HIDDEN


def record(
    session: Session,
    actor: Principal,
    action: AuditAction,
    entity: SQLModel,
    before: dict[str, Any] | None,
) -> AuditEntry:
    """Write the entry for a change just flushed; `before` is None for a create."""
    after = {} if action is AuditAction.delete else snapshot(entity)
    entity_id = getattr(entity, "id", 0) or 0
    entry = AuditEntry(
        **_who(actor, action, type(entity)),
        entity_id=entity_id,
        jurisdiction_id=_filed_under(type(entity), entity_id, entity),
        changes=diff(before or {}, after),
    )
    session.add(entry)
    return entry


def record_created(
    session: Session,
    actor: Principal,
    model: type[SQLModel],
    created: Iterable[tuple[int, BaseModel]],
    written: Mapping[str, Any],
) -> None:
    """The entries `record` writes for new records, in one statement: `created` pairs each
    record's new id with its values (a `model` object, or the checked body it was made from),
    `written` holds the timestamps and version they were written with."""
    data_version.changed(session)  # an INSERT of many rows: no object the flush would see
    rows = [
        {
            "entity_id": entity_id,
            "jurisdiction_id": _filed_under(model, entity_id, values),
            "changes": _created_json(values, entity_id),
        }
        for entity_id, values in created
    ]
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    same = {**_who(actor, AuditAction.create, model), **written}
    bulk.insert_many(session, table, rows, same, encoded={"changes"})


def _created_json(values: BaseModel, entity_id: int) -> str:
    """`diff({}, {**snapshot(values), "id": entity_id})` as JSON text, made by pydantic's
    encoder rather than the JSON column's json.dumps (an import makes 100,000 of them);
    the fields a create's diff leaves out, those without a value, are not dumped at all."""
    after = snapshot(values, exclude_none=True)
    return to_json(diff({}, {**after, "id": entity_id})).decode()


def _who(actor: Principal, action: AuditAction, model: type[SQLModel]) -> dict[str, Any]:
    return {
        "actor_kind": actor.kind or ActorKind.cli,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "entity": model.__tablename__,
    }


def _filed_under(model: type[SQLModel], entity_id: int, values: BaseModel) -> int | None:
    """The jurisdiction the record is, or belongs to (none for an agency, nor for a follow:
    the dossier's public history would tell who follows the place)."""
    if model is Follow:
        return None
    return entity_id if model is Jurisdiction else getattr(values, "jurisdiction_id", None)
