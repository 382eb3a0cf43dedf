"""CSV imports: every row checked with the API's rules, then all rows written, or none.

The file is read a block of rows at a time, so that memory holds a block, not the file: the
records the block's rows name are loaded by one query, its rows checked, and its new records
written (unless a row has failed by then).

A row with an `id` (for jurisdictions, also one without an `id` whose `fips` or `slug` names
a record) updates that record as a PATCH of the fields whose values differ would: the same
checks, audit entry, webhook event and new version. A row whose values equal the record's
leaves it alone.

A row without one creates a record, checked as a POST would be; the block's new records are
written in bulk: one multi-row INSERT per table rather than an ORM object per row, with the
audit entry and the webhook event that each would have had through the API. (New
jurisdictions wait for the end of the file: each must differ from every other row's.) The
records a file creates are not there for its own rows to name, as in a dry run.

A block's rows are stored on a thread of their own while the next block is checked
(`bulk.written_behind`). All of it runs in a savepoint that a bad row, or a dry run, rolls
back; the statuses of the jurisdictions touched are derived once, at the end.
"""

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ContextDecorator
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, SQLModel, col

from .. import bulk, csv_io
from ..db import in_chunks, page_cache
from ..db_types import utcnow
from ..errors import AppError, FieldError, InvalidInput
from ..models import Agency, Jurisdiction, Letter
from ..schemas import (
    BY_PLURAL,
    JURISDICTIONS,
    LABEL_COLUMNS,
    MAX_ID,
    ImportAction,
    ImportReport,
    ImportRowPlan,
    RecordKind,
)
from ..security import Principal
from ..text_input import INTEGER, field_messages, parse
from . import records, status_projection
from .kinds import AGGREGATES, Aggregate

REFERENCE_COLUMNS = ("jurisdiction_fips", "jurisdiction_slug")
BLOCK = 4_000  # rows read, checked and written at a time (half as many: 4% slower on PostgreSQL)
IDS_AHEAD = 10 * BLOCK  # new records' ids taken from the database at a time (_Ids)
CACHE_MIB = 32  # SQLite's page cache while an import writes (the process's RSS grows by it)
UNIQUE = ("slug", "fips", "ocd_id")  # a jurisdiction's, each once in a file


class _CyclesUncollected(ContextDecorator):
    """Python's cycle collector paused while any import runs.

    An import allocates a few objects per cell, which set off the collector's passes over
    everything alive (a quarter of its time, measured with bench/import_export.py); the
    import makes no cycles worth collecting meanwhile. The pause is the process's: other requests'
    cyclic garbage waits for the last running import to end (at most OPTOUT_IMPORT_MAX_ROWS
    rows, seconds), everything else is still freed at once by reference counting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._was_enabled:
                gc.enable()


_cycles_uncollected = _CyclesUncollected()


@_cycles_uncollected
def import_csv(
    session: Session,
    kind: str,
    text: str,
    actor: Principal,
    *,
    response_window_days: int,
    max_rows: int,
    dry_run: bool = False,
) -> ImportReport:
    """Check every row, creating or updating its record; if all pass (and this is not a dry
    run), keep what they wrote, in this transaction.

    Raises InvalidInput naming each bad row (`row N: field`) and writes nothing then.
    """
    spec = BY_PLURAL[kind]
    header, rows = csv_io.read(text)
    _check_header(spec, header)
    run = _Run(session, spec, actor, response_window_days, dry_run, ids_given="id" in header)
    read = 0
    with page_cache(session, CACHE_MIB), session.begin_nested() as savepoint:
        with (
            status_projection.deferred(session) as touched,
            records.held(session, run.load_references()) as held,
            bulk.written_behind(session),
        ):
            for block in _blocks(rows):
                read += len(block)
                if read > max_rows:
                    read += sum(1 for _ in rows)  # to say how many
                    break
                run.block(block, held)
            else:  # the whole file read: what waited for its end (new jurisdictions)
                run.write_pending()
        if run.errors or dry_run or read > max_rows:
            savepoint.rollback()  # what was written, with its audit entries and events
        else:
            status_projection.refresh(session, touched)
    if read > max_rows:
        raise InvalidInput(
            f"{read} rows is over the limit of {max_rows} per import: split the file",
            [FieldError("file", f"at most {max_rows} rows")],
        )
    if run.errors:
        bad_rows = len({e.field.split(":")[0] for e in run.errors})
        raise InvalidInput(
            f"{bad_rows} of {read} rows are invalid: nothing was imported", run.errors
        )
    return run.report(read)


Numbered = list[tuple[int, dict[str, str]]]  # rows with their numbers in the file


def _blocks(rows: Iterator[dict[str, str]]) -> Iterator[Numbered]:
    """The rows a block at a time, each with its number (the header is row 1)."""
    block: Numbered = []
    for number, row in enumerate(rows, start=2):
        block.append((number, row))
        if len(block) == BLOCK:
            yield block
            block = []
    if block:
        yield block


def _check_header(spec: RecordKind, header: list[str]) -> None:
    known = set(spec.create.model_fields) | set(spec.public.model_fields)
    unknown = [h for h in header if h not in known | LABEL_COLUMNS | set(REFERENCE_COLUMNS)]
    if unknown or not header:
        raise InvalidInput(
            f"unknown columns: {', '.join(unknown)}" if unknown else "the file has no header row",
            [FieldError(f"row 1: {h}", "unknown column") for h in unknown]
            or [FieldError("row 1", "a header row naming the columns is required")],
        )


@dataclass
class _Run:
    """One import under way: what it has found so far, row by row."""

    session: Session
    spec: RecordKind
    actor: Principal
    response_window_days: int
    dry_run: bool
    ids_given: bool  # the file has an id column (else every row is a new record)
    errors: list[FieldError] = field(default_factory=list)
    created: int = 0  # rows that create a record (in a dry run: would)
    new: list[BaseModel] = field(default_factory=list)  # new records' bodies, to insert
    created_ids: list[int] = field(default_factory=list)
    made: set[int] = field(default_factory=set)  # the same, to look up
    updated_ids: list[int] = field(default_factory=list)
    unchanged: int = 0
    plan: list[ImportRowPlan] = field(default_factory=list)  # a dry run's
    # Jurisdictions by "slug:..." and "fips:...": for other kinds, the rows' references by
    # jurisdiction_fips or jurisdiction_slug; for jurisdictions, the records rows update.
    by_key: dict[str, Jurisdiction] = field(default_factory=dict)
    # By id, the records the block's rows name: their columns, and as objects those whose
    # rows differ, to update (jurisdictions: all of them as objects).
    stored: dict[int, sa.RowMapping] = field(default_factory=dict)
    named: dict[int, SQLModel] = field(default_factory=dict)
    edited: set[int] = field(default_factory=set)  # of the block's records, those to update
    rows_of: dict[int, int] = field(default_factory=dict)  # record id -> the row naming it
    seen: dict[str, int] = field(default_factory=dict)  # jurisdictions' unique values -> row
    ids: "_Ids" = field(init=False)

    def __post_init__(self) -> None:
        self.ids = _Ids(self.session, self.spec.model.__table__)  # type: ignore[attr-defined]

    @property
    def aggregate(self) -> Aggregate:
        return AGGREGATES[self.spec.plural]

    def load_references(self) -> list[SQLModel]:
        """The records rows may refer to, loaded in a few queries for the services' checks
        to find (`records.held`) instead of querying once per row: every jurisdiction (the
        parents rows name, or the places they happen in) and every agency."""
        places = list(self.session.scalars(sa.select(Jurisdiction)))
        for j in places:
            self.by_key[f"slug:{j.slug}"] = j
            if j.fips:
                self.by_key[f"fips:{j.fips}"] = j
        if self.spec is JURISDICTIONS:
            self.named = {j.id or 0: j for j in places}
            return [*places]
        return [*places, *self.session.scalars(sa.select(Agency))]

    def block(self, block: Numbered, held: records.Held) -> None:
        """Check a block of rows, creating or updating their records; write the new ones
        unless a row has failed (or this is a dry run). Jurisdictions' wait for the end."""
        rows = [row for _, row in block]
        self.load_named(rows)
        if self.spec is not JURISDICTIONS:
            held[Letter] = self._answered(rows)  # those of the block before are let go
        for number, row in block:
            self.row(number, row)
        if self.spec is not JURISDICTIONS:
            self.write_pending()

    def _answered(self, rows: list[dict[str, str]]) -> dict[Any, SQLModel]:
        """The letters these rows answer (responses' `letter_id`), in a query per 500."""
        answered = {int(r["letter_id"]) for r in rows if INTEGER.match(r.get("letter_id", ""))}
        return {
            letter.id: letter
            for chunk in in_chunks(i for i in answered if 1 <= i <= MAX_ID)
            for letter in self.session.scalars(sa.select(Letter).where(col(Letter.id).in_(chunk)))
        }

    def write_pending(self) -> None:
        """Insert the new records checked so far, if every row so far passed and this is no
        dry run; let go of them either way."""
        new, self.new = self.new, []
        if new and not self.errors and not self.dry_run:
            ids = self.ids.take(len(new))
            _write(self.session, self.spec.model, new, ids, self.actor)
            self.created_ids += ids
            self.made.update(ids)

    def load_named(self, block: list[dict[str, str]]) -> None:
        """The records this block of rows names by id: their columns in one query, and as
        objects, in another, those whose rows read otherwise (jurisdictions: all loaded
        already). Those of the block before are let go, so memory stays flat; and an unedited
        row costs no object and no validation, which cost more than reading the file."""
        if self.spec is JURISDICTIONS or not self.ids_given:
            return
        model: Any = self.spec.model
        ids = {i for r in block if (i := _id_of(r))}
        self.stored = {
            row.id: row._mapping
            for chunk in in_chunks(ids)
            for row in self.session.execute(sa.select(model.__table__).where(model.id.in_(chunk)))
        }
        self.edited = set()
        for row in block:
            if (i := _id_of(row)) in self.stored:
                try:
                    data = self._resolve_jurisdiction(row)
                except AppError:
                    continue  # the row's error, found again when its turn comes
                if not self._reads_as(data, self.stored[i].__getitem__):
                    self.edited.add(i)
        self.named = {
            record.id: record
            for chunk in in_chunks(self.edited)
            for record in self.session.scalars(sa.select(model).where(col(model.id).in_(chunk)))
        }

    def _reads_as(self, data: dict[str, str], stored: Callable[[str], Any]) -> bool:
        """Whether each of the row's cells reads as an export writes the record's value (an
        export's row, unedited: nothing to check, nothing to change)."""
        fields = self.spec.update.model_fields
        for name, text in data.items():
            if name in fields and text != csv_io.plain(stored(name)).strip():
                return False
        return True

    def row(self, number: int, row: dict[str, str]) -> None:
        """Check one row and create or update its record; a bad row's errors are noted."""
        try:
            data = self._resolve_jurisdiction(row)
            record_id = self._named_by(number, row)
            if record_id is None:
                self._create(number, data)
            else:
                self._update(number, data, record_id)
        except (ValidationError, AppError) as exc:
            self.errors += [
                FieldError(f"row {number}: {f}", m) for f, m in field_messages(exc).items()
            ]

    def _create(self, number: int, data: dict[str, str]) -> None:
        body = parse(self.spec.create, data)
        for name in _own_references(self.spec):  # a letter's follows_letter_id
            if (value := getattr(body, name)) in self.made:
                message = f"no {self.spec.entity} with id {value}"
                raise InvalidInput(message, [FieldError(name, message)])
        record = self.aggregate.prepare(self.session, body, self.response_window_days)
        if self.spec is JURISDICTIONS:
            self._unique_in_file(record, number)
        self.new.append(record)
        self.created += 1
        self._planned(number, "created", None)

    def _update(self, number: int, data: dict[str, str], record_id: int) -> None:
        record: Any = self.named.get(record_id)  # loaded if edited (jurisdictions: all are)
        if self.spec is JURISDICTIONS:
            edited = not self._reads_as(data, partial(getattr, record))
        else:
            edited = record_id in self.edited
        changes = _changes(self.spec, record, data) if edited else {}
        if changes:  # a row that changes nothing undoes no one's change, whatever its version
            _not_stale(data.get("version", ""), record)
            update = self.spec.update.model_construct(set(changes), **changes)
            self.aggregate.update(self.session, record, update, self.actor)
            self.updated_ids.append(record_id)
        else:
            self.unchanged += 1
        if self.spec is JURISDICTIONS:
            self._unique_in_file(record, number)
        self._planned(number, "updated" if changes else "unchanged", record_id, changes)

    def _planned(
        self, number: int, action: ImportAction, record_id: int | None, changed: Iterable[str] = ()
    ) -> None:
        if self.dry_run:  # the real run reports the ids alone: a plan of 100,000 rows is long
            plan = ImportRowPlan(row=number, action=action, id=record_id, changed=list(changed))
            self.plan.append(plan)

    def _named_by(self, number: int, row: dict[str, str]) -> int | None:
        """The id of the record the row updates: by `id` (a bad or unknown one is the row's
        error), for jurisdictions also by a known `fips` or `slug`; None for a new record."""
        record_id = None
        if text := row.get("id", ""):
            if not INTEGER.match(text):
                raise InvalidInput("bad id", [FieldError("id", "must be a whole number")])
            record_id = int(text)
            known = self.named if self.spec is JURISDICTIONS else self.stored
            if record_id not in known or record_id in self.made:
                entity = self.spec.entity
                raise InvalidInput(
                    f"no {entity} with id {text}",
                    [FieldError("id", f"no {entity} with id {text}: leave it empty to create one")],
                )
        elif self.spec is JURISDICTIONS:
            for column in ("fips", "slug"):
                if (value := row.get(column)) and (found := self.by_key.get(f"{column}:{value}")):
                    record_id = found.id
                    break
        if record_id is None:
            return None
        if earlier := self.rows_of.get(record_id):
            entity = self.spec.entity
            raise InvalidInput(
                f"{entity} {record_id} repeated",
                [FieldError("id", f"{entity} {record_id} is already in row {earlier}")],
            )
        self.rows_of[record_id] = number
        return record_id

    def _resolve_jurisdiction(self, row: dict[str, str]) -> dict[str, str]:
        """The row, with the jurisdiction it names by jurisdiction_fips or jurisdiction_slug
        as jurisdiction_id when that is empty (in an export, jurisdiction_id is set)."""
        if self.spec is JURISDICTIONS or row.get("jurisdiction_id"):
            return row
        for column, prefix in (("jurisdiction_fips", "fips"), ("jurisdiction_slug", "slug")):
            if value := row.get(column):
                if (found := self.by_key.get(f"{prefix}:{value}")) is None:
                    raise InvalidInput(
                        f"no jurisdiction {value}",
                        [FieldError(column, f"no jurisdiction with {prefix} {value}")],
                    )
                return {**row, "jurisdiction_id": str(found.id)}
        return row

    def _unique_in_file(self, record: Any, number: int) -> None:
        """A jurisdiction's slug, FIPS code and OCD id once in the file: the checks against
        the database do not see the new records, written at the end."""
        for column in UNIQUE:
            value = getattr(record, column)
            if value and (earlier := self.seen.get(f"{column}:{value}")):
                raise InvalidInput(
                    f"{column} repeated",
                    [FieldError(column, f"{value} is already in row {earlier}")],
                )
        for column in UNIQUE:
            if value := getattr(record, column):
                self.seen[f"{column}:{value}"] = number

    def report(self, rows: int) -> ImportReport:
        return ImportReport(
            kind=self.spec.plural,
            rows=rows,
            dry_run=self.dry_run,
            created=self.created,
            updated=len(self.updated_ids),
            unchanged=self.unchanged,
            created_ids=self.created_ids,
            updated_ids=[] if self.dry_run else self.updated_ids,
            plan=self.plan if self.dry_run else None,
        )


@cache
def _own_references(spec: RecordKind) -> tuple[str, ...]:
    """The columns by which a record of this kind names another of its kind."""
    table: sa.Table = spec.model.__table__  # type: ignore[attr-defined]
    return tuple(c.name for c in table.c if any(fk.column.table is table for fk in c.foreign_keys))


def _id_of(row: dict[str, str]) -> int | None:
    """The row's `id`, if it may name a record (else the row creates one, or is refused)."""
    text = row.get("id", "")
    return int(text) if INTEGER.match(text) and 1 <= int(text) <= MAX_ID else None


def _not_stale(version: str, record: Any) -> None:
    """A row's `version`, when given, is the record's: else someone changed the record since
    the file was exported, and the row would undo their change (as If-Match in a PATCH)."""
    if not version:
        return
    if not INTEGER.match(version):
        raise InvalidInput("bad version", [FieldError("version", "must be a whole number")])
    if int(version) != record.version:
        message = (
            f"version {version} is stale, the record is at version {record.version}: "
            "export it again and redo the change"
        )
        raise InvalidInput(message, [FieldError("version", message)])


def _changes(spec: RecordKind, record: Any, data: dict[str, str]) -> dict[str, Any]:
    """The fields whose cells differ from the record, as a PATCH body would hold them (the
    update schema's checks; an empty cell clears a field). Columns the file lacks, and those
    that are not the record's own (id, timestamps, derived status, labels), are left alone."""
    body = parse(spec.update, data, partial=True)
    return {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if not _same(getattr(record, name), value)
    }


def _same(stored: Any, read: Any) -> bool:
    """Whether a cell read back says what is stored. Cells are read without the spaces at
    either end, and an empty one as nothing: text stored as "" or " x " exports as such and
    must read back as unchanged."""
    if stored == read:
        return True
    return (
        isinstance(stored, str)
        and (read is None or isinstance(read, str))
        and (stored.strip() == (read or ""))
    )


def _write(
    session: Session,
    model: type[SQLModel],
    checked: list[BaseModel],
    ids: list[int],
    actor: Principal,
) -> None:
    """Insert the records with these ids (a block's: one COPY, or as few INSERTs as SQLite
    takes, each a wait for the GIL on the thread that stores them), then what every created
    record comes with (`records.created`), as through the API."""
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    table = model.__table__  # type: ignore[attr-defined]
    rows = [
        {**record.model_dump(exclude=records.TRACKED), "id": record_id}
        for record_id, record in zip(ids, checked, strict=True)
    ]
    # Columns a file cannot set (a letter's language, known for the site's own texts) are null.
    unset = {c.name: None for c in table.c if c.nullable and c.name not in {*rows[0], *stamps}}
    bulk.insert_many(session, table, rows, stamps | unset)
    records.created(session, model, list(zip(ids, checked, strict=True)), actor, stamps)
    session.flush()


@dataclass
class _Ids:
    """Ids for an import's new records, taken from the database ten blocks' worth at a time:
    asking for them is a statement, which waits for the rows still being written behind
    (bulk.written_behind). On PostgreSQL the sequence's values an import leaves unused are
    skipped, as those of a rolled-back insert are."""

    session: Session
    table: sa.Table
    free: list[int] = field(default_factory=list)

    def take(self, n: int) -> list[int]:
        if len(self.free) < n:
            after = self.free[-1] if self.free else 0
            self.free += _take_ids(self.session, self.table, max(n, IDS_AHEAD), after)
        taken, self.free = self.free[:n], self.free[n:]
        return taken


def _take_ids(session: Session, table: sa.Table, n: int, after: int = 0) -> list[int]:
    """Ids for n new rows of `table`, to be inserted with them, each above `after` (ids
    already taken).

    Asked instead to return the ids of a multi-row insert in their order, SQLAlchemy sends
    SQLite one INSERT per row, and PostgreSQL statements with thousands of placeholders that
    the driver parses each time.
    """
    if session.get_bind().dialect.name == "postgresql":
        # From the column's sequence, as an insert takes them: no other transaction gets them.
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        series = sa.func.generate_series(1, n).table_valued("n")
        return sorted(session.scalars(sa.select(sa.func.nextval(sequence)).select_from(series)))
    # SQLite refuses this transaction's insert if another has written since the read below,
    # so the ids above the largest are free (and a clash would fail on the primary key); and
    # above the largest AUTOINCREMENT ever gave, so that a deleted record's id is not reused.
    last = session.scalar(sa.select(sa.func.max(table.c.id))) or 0
    given = sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name")
    last = max(last, session.scalar(given, {"name": table.name}) or 0, after)
    return list(range(last + 1, last + n + 1))
