"""The shared half of every aggregate: reading a table by id or as a filtered page, and
writing, with what every change brings (its audit entry, its webhook event, the derived
status): one path for a record created through the API, an import or the demo."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col

from .. import audit
from ..enums import AuditAction, ResponseKind
from ..errors import Conflict, FieldError, InvalidInput, NotFound
from ..i18n import N_, Sentence
from ..models import Announcement, Jurisdiction, Letter, Response, Tracked, Vote
from ..schemas import (
    BY_MODEL,
    PRIVATE_COLUMNS,
    EventFilters,
    ListParams,
    ResponseCreate,
    listed_columns,
)
from ..security import Principal
from . import mail, outbox, status_projection
from .listing import equality_filters, fetch_page, order_by, range_filters

T = TypeVar("T", bound=SQLModel)


# A webhook's secret too: sorting by it would tell it apart, character by character.
TRACKED = set(Tracked.model_fields)  # set on writing, never by the caller
STATUS_FROM = (Vote, Letter, Response)  # the records a jurisdiction's derived status is made of


def columns_of(model: type[SQLModel]) -> dict[str, Any]:
    """Columns a list may filter and sort by (schemas.listed_columns), by name."""
    table = model.__table__  # type: ignore[attr-defined]
    return {name: table.c[name] for name in listed_columns(model)}


# "no vote with id 3", per kind of record: a whole sentence each, since in other languages
# the words around the kind agree with it (ningún voto, ninguna carta).
NO_SUCH = {
    "jurisdiction": N_("no jurisdiction with id {id}"),
    "agency": N_("no agency with id {id}"),
    "vote": N_("no vote with id {id}"),
    "letter": N_("no letter with id {id}"),
    "response": N_("no response with id {id}"),
    "announcement": N_("no announcement with id {id}"),
    "document": N_("no document with id {id}"),
    "user": N_("no user with id {id}"),
    "api_key": N_("no api_key with id {id}"),
    "webhook": N_("no webhook with id {id}"),
    "follow": N_("no follow with id {id}"),
}


def no_such(model: type[SQLModel], record_id: int | str) -> Sentence:
    """The sentence of a record that is not there (its English: "no vote with id 3")."""
    name = str(model.__tablename__)
    if name in NO_SUCH:
        return Sentence(NO_SUCH[name], id=str(record_id))
    return Sentence("no {record} with id {id}", record=name, id=str(record_id))


def get(session: Session, model: type[T], record_id: int) -> T:
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(no_such(model, record_id))
    return record


@dataclass(frozen=True)
class Listing:
    """How one table is listed: which parameters filter by equality, the default order and
    any extra conditions. Pages and CSV exports both come from `statement`."""

    model: type[SQLModel]
    equal: tuple[str, ...]
    default_sort: str
    extra: Callable[[Any], list[Any]] = lambda params: []
    # Columns that filters and sorts read through another holding the same values: an audit
    # entry's updated_at is its created_at, whose index serves both.
    same_as: Mapping[str, str] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        columns = columns_of(self.model)
        return {**columns, **{name: columns[other] for name, other in self.same_as.items()}}

    def statement(self, params: ListParams) -> sa.Select[Any]:
        """Every row that matches the filters, unordered and unpaged."""
        columns = self.columns()
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
        columns = self.columns()
        rows, total = fetch_page(
            session,
            self.statement(params).where(*where),
            params,
            sort_columns=columns,
            default_sort=self.default_sort,
            tiebreak=columns["id"],
        )
        return [row[0] for row in rows], total

    def ordered(self, session: Session, params: ListParams) -> sa.Select[Any]:
        """The matching rows in the list's order, for an export of all of them (the session
        is for kinds whose rows need more than a statement: jurisdictions.ordered)."""
        columns = self.columns()
        ordering = order_by(params.sort, columns, self.default_sort, columns["id"])
        return self.statement(params).order_by(*ordering)


# Writing: each helper writes through the session (many rows: through bulk inserts), records
# the audit entries and publishes the webhook events; the caller's unit of work commits.


HELD = "optout_held"  # session.info key: records `reference` finds without asking the session


Held = dict[type[SQLModel], dict[Any, SQLModel]]  # records by model and id


@contextmanager
def held(session: Session, records: Iterable[SQLModel]) -> Iterator[Held]:
    """While the block runs, `reference` finds these records by id in a plain dict, the one
    yielded: the caller may add and drop records meanwhile.

    For imports, which check a hundred thousand rows against a few thousand records: the
    session's identity map finds them too, but each lookup costs several times as much.
    """
    by_model: Held = defaultdict(dict)
    for record in records:
        by_model[type(record)][getattr(record, "id", None)] = record
    session.info[HELD] = by_model
    try:
        yield by_model
    finally:
        del session.info[HELD]


def reference(session: Session, model: type[T], record_id: int, field: str) -> T:
    """A record named in the input: a missing one is bad input (422), not a missing page."""
    known = cast("T | None", session.info.get(HELD, {}).get(model, {}).get(record_id))
    found = known if known is not None else session.get(model, record_id)
    if found is None:
        missing = no_such(model, record_id)
        raise InvalidInput(missing, [FieldError(field, missing)])
    return found


def changes_of(model: type[SQLModel], update: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body names; null is refused for a field that cannot be empty."""
    changes = update.model_dump(exclude_unset=True)
    table = model.__table__  # type: ignore[attr-defined]
    nulls = [k for k, v in changes.items() if v is None and not table.c[k].nullable]
    if nulls:
        raise InvalidInput(
            f"{', '.join(nulls)} cannot be null",
            [FieldError(k, Sentence("cannot be null")) for k in nulls],
        )
    return changes


def insert(session: Session, record: T, actor: Principal) -> T:
    """Write one checked record, with what `created` adds to every new record."""
    session.add(record)
    session.flush()
    written = {name: getattr(record, name) for name in ("created_at", "updated_at", "version")}
    created(session, type(record), [(getattr(record, "id", 0) or 0, record)], actor, written)
    return record


def created(
    session: Session,
    model: type[SQLModel],
    new: Sequence[tuple[int, BaseModel]],
    actor: Principal,
    written: Mapping[str, Any],
) -> None:
    """What each new record of a kind comes with, whether one came through the API or many
    through an import: its audit entry, its webhook event, the derived status of the
    jurisdictions it touches (an announcement's: those in its scope), and a response's
    adjusted activation date and mail alerts.

    `new` pairs each record's id with its values: the table object, or the checked body it
    was written from (making an object of each of 100,000 imported rows costs seconds);
    `written` holds the timestamps and version they were written with. Nothing here keeps
    the values once it returns: an import calls it a block of records at a time.
    """
    audit.record_created(session, actor, model, new, written)
    ids = [record_id for record_id, _ in new]
    outbox.publish_many(session, f"{BY_MODEL[model].entity}.created", ids, partial(_shown, model))
    if model is Jurisdiction:  # covered by its state's campaign from the start, maybe
        status_projection.initialize(session, ids)
        status_projection.refresh(session, ids)
    if model is Response:
        for _, response in new:
            move_activation(session, cast("Response | ResponseCreate", response), actor)
        mail.responses_logged(session, ids)
    if model in STATUS_FROM:
        status_projection.refresh(session, {cast(Any, v).jurisdiction_id for _, v in new})
    if model is Announcement:  # it speaks to every jurisdiction in its scope
        status_projection.refresh_scopes(session, {cast(Any, v).scope for _, v in new})


def _shown(model: type[SQLModel], session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """New records as their webhook events show them: as they stand at commit, read then in
    one query, and only if a subscription wants the event (an import's 100,000 records are
    not held until then)."""
    if model is Jurisdiction:  # its shape adds the derived status
        held = outbox.load_jurisdictions(session, set(ids))  # session.get finds them now
        found = [j for i in ids if (j := session.get(Jurisdiction, i)) is not None]
        shown = [outbox.visible(session, j) for j in found]
        del held
        return shown
    # What outbox.visible makes of a record, from its columns: loading table objects made
    # the commit of 100,000 imported votes with a subscriber take 23 s instead of 10.
    table = model.__table__  # type: ignore[attr-defined]
    rows = session.execute(sa.select(table).where(table.c.id.in_(ids))).mappings()
    by_id = {row["id"]: row for row in rows}
    public = BY_MODEL[model].public
    return [
        public.model_validate(dict(by_id[i])).hide_private().model_dump(mode="json")
        for i in ids
        if i in by_id
    ]


def move_activation(
    session: Session, response: Response | ResponseCreate, actor: Principal
) -> None:
    """A response's adjusted date becomes its jurisdiction's scheduled activation, as the
    contract says."""
    new_date = response.new_activation_on
    if response.kind is not ResponseKind.activation_date_adjusted or not new_date:
        return
    jurisdiction = session.get(Jurisdiction, response.jurisdiction_id)
    if jurisdiction is not None and jurisdiction.scheduled_activation_on != new_date:
        update(session, jurisdiction, {"scheduled_activation_on": new_date}, actor)


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
    used: list[Sentence] = []
    for column in refs:
        n = session.scalar(sa.select(sa.func.count()).where(col(column) == record_id))
        if n:
            table = str(column.class_.__tablename__)
            one, many = RECORDS.get(table, (N_("{n} {table} record"), N_("{n} {table} records")))
            used.append(Sentence(one if n == 1 else many, n=str(n), table=table))
    if used:
        listed = used[0]
        for more in used[1:]:
            listed = Sentence("{listed} and {more}", listed=listed, more=more)
        refusal = Sentence(
            "{name} still has {used}: delete or move them first", name=name, used=listed
        )
        raise Conflict(refusal)


# "3 vote records", per kind of record that may hold another back from deletion (its count is
# given as text, as the API writes it; English's plural, which Spanish shares, picks the form).
RECORDS = {
    "vote": (N_("{n} vote record"), N_("{n} vote records")),
    "letter": (N_("{n} letter record"), N_("{n} letter records")),
    "response": (N_("{n} response record"), N_("{n} response records")),
    "announcement": (N_("{n} announcement record"), N_("{n} announcement records")),
    "jurisdiction": (N_("{n} jurisdiction record"), N_("{n} jurisdiction records")),
}


def delete(session: Session, record: SQLModel, actor: Principal) -> None:
    before = audit.snapshot(record)
    audit.record(session, actor, AuditAction.delete, record, before)
    outbox.publish_change(session, AuditAction.delete, record)
    session.delete(record)
    session.flush()
