"""CSV imports: every row checked with the API's rules, then all rows written, or none.

Each row is parsed into the API's body schema and checked by the service's own rules, as a
POST would be. A file without errors is then written in bulk: one multi-row INSERT per
table rather than an ORM object per row, with the audit entry and the webhook event that
each created record would have had through the API.
"""

import gc
import threading
from contextlib import ContextDecorator
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, SQLModel, col

from .. import bulk, csv_io
from ..db import in_chunks
from ..db_types import utcnow
from ..errors import AppError, FieldError, InvalidInput
from ..models import Agency, Jurisdiction, Letter
from ..schemas import BY_PLURAL, JURISDICTIONS, RecordKind
from ..security import Principal
from ..text_input import INTEGER, field_errors, parse
from . import records
from .kinds import AGGREGATES

REFERENCE_COLUMNS = ("jurisdiction_fips", "jurisdiction_slug")


@dataclass
class ImportReport:
    kind: str
    rows: int
    created: int = 0
    dry_run: bool = False
    errors: list[FieldError] = field(default_factory=list)


class _CyclesUncollected(ContextDecorator):
    """Python's cycle collector paused while any import runs.

    An import keeps a few hundred thousand objects alive, and the collector's passes over
    them cost a quarter of its time (measured with bench/import_export.py); the import
    makes no cycles worth collecting meanwhile. The pause is the process's: other requests'
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
    """Check every row; if all pass (and this is not a dry run), write them in this transaction.

    Raises InvalidInput naming each bad row (`row N: field`) and writes nothing then.
    """
    spec, aggregate = BY_PLURAL[kind], AGGREGATES[kind]
    header, rows = csv_io.read(text)
    _check_header(spec, header)
    if len(rows) > max_rows:
        raise InvalidInput(
            f"{len(rows)} rows is over the limit of {max_rows} per import: split the file",
            [FieldError("file", f"at most {max_rows} rows")],
        )
    by_key, loaded = _load_references(session, kind, rows)
    report = ImportReport(kind, len(rows), dry_run=dry_run)
    checked: list[BaseModel] = []
    seen: dict[str, int] = {}
    with records.held(session, loaded):
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            try:
                data = _resolve_jurisdiction(row, by_key) if by_key else row
                body = parse(spec.create, data)
                record = aggregate.prepare(session, body, response_window_days)
                if spec is JURISDICTIONS:
                    _no_duplicate_in_file(record, number, seen)
            except (ValidationError, AppError) as exc:
                report.errors += [
                    FieldError(f"row {number}: {f}", m) for f, m in field_errors(exc).items()
                ]
            else:
                checked.append(record)
        if not report.errors and not dry_run:
            _write(session, spec.model, checked, actor)
            report.created = len(checked)
    if report.errors:
        bad_rows = len({e.field.split(":")[0] for e in report.errors})
        raise InvalidInput(
            f"{bad_rows} of {len(rows)} rows are invalid: nothing was imported", report.errors
        )
    return report


def _check_header(spec: RecordKind, header: list[str]) -> None:
    known = set(spec.create.model_fields) | set(spec.public.model_fields) | set(REFERENCE_COLUMNS)
    unknown = [h for h in header if h not in known]
    if unknown or not header:
        raise InvalidInput(
            f"unknown columns: {', '.join(unknown)}" if unknown else "the file has no header row",
            [FieldError(f"row 1: {h}", "unknown column") for h in unknown]
            or [FieldError("row 1", "a header row naming the columns is required")],
        )


def _load_references(
    session: Session, kind: str, rows: list[dict[str, str]]
) -> tuple[dict[str, int], list[SQLModel]]:
    """Jurisdictions by FIPS and by slug, so that rows may name them either way; and the
    records rows may refer to, loaded in a few queries for the services' checks to find
    (`records.held`) instead of querying once per row."""
    places = list(session.scalars(sa.select(Jurisdiction)))
    loaded: list[SQLModel] = [*places]
    if kind == "jurisdictions":
        return {}, loaded  # the parents rows may name
    keys = {f"slug:{j.slug}": j.id or 0 for j in places}
    keys |= {f"fips:{j.fips}": j.id or 0 for j in places if j.fips}
    loaded += session.scalars(sa.select(Agency))
    answered = {int(r["letter_id"]) for r in rows if INTEGER.match(r.get("letter_id", ""))}
    for chunk in in_chunks(answered):
        loaded += session.scalars(sa.select(Letter).where(col(Letter.id).in_(chunk)))
    return keys, loaded


def _resolve_jurisdiction(row: dict[str, str], by_key: dict[str, int]) -> dict[str, str]:
    if row.get("jurisdiction_id"):
        return row
    for column, prefix in (("jurisdiction_fips", "fips"), ("jurisdiction_slug", "slug")):
        if value := row.get(column):
            if (found := by_key.get(f"{prefix}:{value}")) is None:
                raise InvalidInput(
                    f"no jurisdiction {value}",
                    [FieldError(column, f"no jurisdiction with {prefix} {value}")],
                )
            return {**row, "jurisdiction_id": str(found)}
    return row


def _no_duplicate_in_file(record: BaseModel, number: int, seen: dict[str, int]) -> None:
    for column in ("slug", "fips", "ocd_id"):
        value = getattr(record, column)
        if value and (earlier := seen.get(f"{column}:{value}")):
            raise InvalidInput(
                f"{column} repeated", [FieldError(column, f"{value} is already in row {earlier}")]
            )
        if value:
            seen[f"{column}:{value}"] = number


def _write(
    session: Session, model: type[SQLModel], checked: list[BaseModel], actor: Principal
) -> None:
    """Insert the records, a thousand to a statement, then what every created record comes
    with (`records.created`), as through the API."""
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    table = model.__table__  # type: ignore[attr-defined]
    ids = _take_ids(session, table, len(checked))
    for start in range(0, len(checked), records.BATCH):
        rows = [
            {**record.model_dump(exclude=records.TRACKED), "id": record_id}
            for record_id, record in zip(
                ids[start : start + records.BATCH],
                checked[start : start + records.BATCH],
                strict=True,
            )
        ]
        bulk.insert_many(session, table, rows, stamps)
    records.created(session, model, list(zip(ids, checked, strict=True)), actor, stamps)
    session.flush()


def _take_ids(session: Session, table: sa.Table, n: int) -> list[int]:
    """Ids for n new rows of `table`, to be inserted with them.

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
    # so the ids above the largest are free (and a clash would fail on the primary key).
    last = session.scalar(sa.select(sa.func.max(table.c.id))) or 0
    return list(range(last + 1, last + n + 1))
