"""CSV imports: every row checked with the API's rules, then all rows written, or none."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, SQLModel

from .. import audit, csv_io
from ..enums import AuditAction
from ..errors import AppError, FieldError, InvalidInput
from ..models import Agency, Jurisdiction, Response
from ..schemas import (
    AgencyCreate,
    AgencyPublic,
    JurisdictionCreate,
    JurisdictionPublic,
    LetterCreate,
    LetterPublic,
    ResponseCreate,
    ResponsePublic,
    VoteCreate,
    VotePublic,
)
from ..security import Principal
from ..text_input import field_errors, parse
from . import agencies, jurisdictions, letters, responses, status_projection, votes

KINDS = ("jurisdictions", "agencies", "votes", "letters", "responses")
REFERENCE_COLUMNS = ("jurisdiction_fips", "jurisdiction_slug")


@dataclass(frozen=True)
class Kind:
    create: type[BaseModel]
    public: type[BaseModel]  # its other columns are what exports add, ignored on import
    build: Callable[[Session, Any, int], SQLModel]


def _jurisdiction(session: Session, data: JurisdictionCreate, _: int) -> SQLModel:
    return jurisdictions.prepare(session, data)


def _agency(session: Session, data: AgencyCreate, _: int) -> SQLModel:
    agency = Agency(**data.model_dump())
    agencies.check(agency)
    return agency


def _vote(session: Session, data: VoteCreate, _: int) -> SQLModel:
    vote = votes.Vote(**data.model_dump())
    votes.check(session, vote)
    return vote


def _letter(session: Session, data: LetterCreate, window: int) -> SQLModel:
    return letters.prepare(session, data, window)


def _response(session: Session, data: ResponseCreate, _: int) -> SQLModel:
    response = Response(**data.model_dump())
    responses.check(session, response)
    return response


SPECS = {
    "jurisdictions": Kind(JurisdictionCreate, JurisdictionPublic, _jurisdiction),
    "agencies": Kind(AgencyCreate, AgencyPublic, _agency),
    "votes": Kind(VoteCreate, VotePublic, _vote),
    "letters": Kind(LetterCreate, LetterPublic, _letter),
    "responses": Kind(ResponseCreate, ResponsePublic, _response),
}


@dataclass
class ImportReport:
    kind: str
    rows: int
    created: int = 0
    dry_run: bool = False
    errors: list[FieldError] = field(default_factory=list)


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
    spec = SPECS[kind]
    header, rows = csv_io.read(text)
    _check_header(spec, header)
    if len(rows) > max_rows:
        raise InvalidInput(
            f"{len(rows)} rows is over the limit of {max_rows} per import: split the file",
            [FieldError("file", f"at most {max_rows} rows")],
        )
    by_key = _jurisdiction_keys(session) if kind != "jurisdictions" else {}
    report = ImportReport(kind, len(rows), dry_run=dry_run)
    built: list[SQLModel] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            data = _resolve_jurisdiction(row, by_key) if by_key else row
            payload = parse(
                spec.create, {k: v for k, v in data.items() if k in spec.create.model_fields}
            )
            record = spec.build(session, payload, response_window_days)
            _no_duplicate_in_file(record, number, seen)
        except (ValidationError, AppError) as exc:
            report.errors += [
                FieldError(f"row {number}: {f}", m) for f, m in _messages(exc).items()
            ]
        else:
            built.append(record)
    if report.errors:
        bad_rows = len({e.field.split(":")[0] for e in report.errors})
        raise InvalidInput(
            f"{bad_rows} of {len(rows)} rows are invalid: nothing was imported", report.errors
        )
    if not dry_run:
        _write(session, kind, built, actor)
        report.created = len(built)
    return report


def _check_header(spec: Kind, header: list[str]) -> None:
    known = set(spec.create.model_fields) | set(spec.public.model_fields) | set(REFERENCE_COLUMNS)
    unknown = [h for h in header if h not in known]
    if unknown or not header:
        raise InvalidInput(
            f"unknown columns: {', '.join(unknown)}" if unknown else "the file has no header row",
            [FieldError(f"row 1: {h}", "unknown column") for h in unknown]
            or [FieldError("row 1", "a header row naming the columns is required")],
        )


def _jurisdiction_keys(session: Session) -> dict[str, int]:
    """Jurisdictions by FIPS and by slug, so that rows may name them either way."""
    keys: dict[str, int] = {}
    for j in session.scalars(sa.select(Jurisdiction)):  # fills the identity map checks read
        keys[f"slug:{j.slug}"] = j.id or 0
        if j.fips:
            keys[f"fips:{j.fips}"] = j.id or 0
    list(session.scalars(sa.select(Agency)))
    return keys


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


def _no_duplicate_in_file(record: SQLModel, number: int, seen: dict[str, int]) -> None:
    if not isinstance(record, Jurisdiction):
        return
    for column in ("slug", "fips", "ocd_id"):
        value = getattr(record, column)
        if value and (earlier := seen.get(f"{column}:{value}")):
            raise InvalidInput(
                f"{column} repeated", [FieldError(column, f"{value} is already in row {earlier}")]
            )
        if value:
            seen[f"{column}:{value}"] = number


def _messages(exc: ValidationError | AppError) -> dict[str, str]:
    return field_errors(exc)


def _write(session: Session, kind: str, built: list[SQLModel], actor: Principal) -> None:
    session.add_all(built)
    session.flush()
    for record in built:
        audit.record(session, actor, AuditAction.create, record, None)
    if kind == "jurisdictions":
        status_projection.initialize(session, [r.id or 0 for r in built])  # type: ignore[attr-defined]
    elif kind in ("votes", "letters", "responses"):
        for record in built:
            if isinstance(record, Response):
                j = session.get(Jurisdiction, record.jurisdiction_id)
                if j is not None:
                    responses.move_activation(session, j, record, actor)
        status_projection.refresh(session, {r.jurisdiction_id for r in built})  # type: ignore[attr-defined]
    session.flush()
