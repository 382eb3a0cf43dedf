"""Reading any table by id or as a filtered page: the shared half of every aggregate."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col

from .. import audit
from ..enums import AuditAction
from ..errors import Conflict, FieldError, InvalidInput, NotFound
from ..models import Jurisdiction
from ..schemas import EventFilters, ListParams
from ..security import Principal
from . import outbox
from .listing import equality_filters, fetch_page, order_by, range_filters

T = TypeVar("T", bound=SQLModel)


# A webhook's secret too: sorting by it would tell it apart, character by character.
PRIVATE_COLUMNS = frozenset({"private_notes", "secret"})


def columns_of(model: type[SQLModel]) -> dict[str, Any]:
    """Columns a list may filter and sort by: private ones would leak through the order."""
    return {c.name: c for c in model.__table__.c if c.name not in PRIVATE_COLUMNS}  # type: ignore[attr-defined]


def get(session: Session, model: type[T], record_id: int) -> T:
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"no {model.__tablename__} with id {record_id}")
    return record


@dataclass(frozen=True)
class Listing:
    """How one table is listed: which parameters filter by equality, the default order and
    any extra conditions. Pages and CSV exports both come from `statement`."""

    model: type[SQLModel]
    equal: tuple[str, ...]
    default_sort: str
    extra: Callable[[Any], list[Any]] = lambda params: []

    def statement(self, params: ListParams) -> sa.Select[Any]:
        """Every row that matches the filters, unordered and unpaged."""
        columns = columns_of(self.model)
        conditions = [
            *equality_filters(params, columns, self.equal),
            *range_filters(params, columns),
            *self.extra(params),
        ]
        if isinstance(params, EventFilters) and params.state is not None:
            in_state = sa.select(col(Jurisdiction.id)).where(
                col(Jurisdiction.state) == params.state
            )
            conditions.append(columns["jurisdiction_id"].in_(in_state))
        if params.updated_since is not None:
            conditions.append(columns["updated_at"] >= params.updated_since)
        return sa.select(self.model).where(*conditions)

    def page(self, session: Session, params: ListParams, *where: Any) -> tuple[list[Any], int]:
        """One page of the matching rows; `where` narrows them further (e.g. to a parent)."""
        columns = columns_of(self.model)
        rows, total = fetch_page(
            session,
            self.statement(params).where(*where),
            params,
            sort_columns=columns,
            default_sort=self.default_sort,
            tiebreak=columns["id"],
        )
        return [row[0] for row in rows], total

    def ordered(self, params: ListParams) -> sa.Select[Any]:
        """The matching rows in the list's order, for an export of all of them."""
        columns = columns_of(self.model)
        ordering = order_by(params.sort, columns, self.default_sort, columns["id"])
        return self.statement(params).order_by(*ordering)


# Writing: each helper flushes, records its audit entry and publishes its webhook event; the
# caller's unit of work commits.


HELD = "optout_held"  # session.info key: records `reference` finds without asking the session


@contextmanager
def held(session: Session, records: Iterable[SQLModel]) -> Iterator[None]:
    """While the block runs, `reference` finds these records by id in a plain dict.

    For imports, which check a hundred thousand rows against a few thousand records: the
    session's identity map finds them too, but each lookup costs several times as much.
    """
    by_model: dict[type[SQLModel], dict[Any, SQLModel]] = defaultdict(dict)
    for record in records:
        by_model[type(record)][getattr(record, "id", None)] = record
    session.info[HELD] = by_model
    try:
        yield
    finally:
        del session.info[HELD]


def reference(session: Session, model: type[T], record_id: int, field: str) -> T:
    """A record named in the input: a missing one is bad input (422), not a missing page."""
    known = cast("T | None", session.info.get(HELD, {}).get(model, {}).get(record_id))
    found = known if known is not None else session.get(model, record_id)
    if found is None:
        raise InvalidInput(
            f"no {model.__tablename__} with id {record_id}",
            [FieldError(field, f"no {model.__tablename__} with id {record_id}")],
        )
    return found


def changes_of(model: type[SQLModel], update: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body names; null is refused for a field that cannot be empty."""
    changes = update.model_dump(exclude_unset=True)
    table = model.__table__  # type: ignore[attr-defined]
    nulls = [k for k, v in changes.items() if v is None and not table.c[k].nullable]
    if nulls:
        raise InvalidInput(
            f"{', '.join(nulls)} cannot be null", [FieldError(k, "cannot be null") for k in nulls]
        )
    return changes


def insert(session: Session, record: T, actor: Principal) -> T:
    session.add(record)
    session.flush()
    audit.record(session, actor, AuditAction.create, record, None)
    outbox.publish_change(session, AuditAction.create, record)
    return record


def update(session: Session, record: T, changes: dict[str, Any], actor: Principal) -> T:
    changed = {k for k, v in changes.items() if getattr(record, k) != v}
    if not changed:
        return record  # nothing changes: no new version, no audit entry
    before = audit.snapshot(record)
    record.sqlmodel_update(changes)
    session.add(record)
    session.flush()  # the version check happens here: a concurrent edit raises StaleDataError
    audit.record(session, actor, AuditAction.update, record, before)
    if changed - PRIVATE_COLUMNS:  # an edit of private fields only is no public event
        outbox.publish_change(session, AuditAction.update, record)
    return record


def refuse_if_used(session: Session, name: str, record_id: int | None, *refs: Any) -> None:
    """409 when rows still point at this record, e.g. `refs` = (Vote.jurisdiction_id, ...)."""
    used = []
    for column in refs:
        n = session.scalar(sa.select(sa.func.count()).where(col(column) == record_id))
        if n:
            used.append(f"{n} {column.class_.__tablename__} record{'s' if n > 1 else ''}")
    if used:
        raise Conflict(f"{name} still has {' and '.join(used)}: delete or move them first")


def delete(session: Session, record: SQLModel, actor: Principal) -> None:
    before = audit.snapshot(record)
    audit.record(session, actor, AuditAction.delete, record, before)
    outbox.publish_change(session, AuditAction.delete, record)
    session.delete(record)
    session.flush()
