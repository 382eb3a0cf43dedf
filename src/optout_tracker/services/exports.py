"""What each CSV export reads: the list's statement and how a row becomes its cells."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import csv_io
from ..schemas import BY_PLURAL, KINDS, ListParams, RecordKind
from . import public
from .kinds import AGGREGATES

BY_ENTITY = {kind.entity: kind for kind in KINDS}


@dataclass(frozen=True)
class Export:
    kind: RecordKind
    statement: sa.Select[*tuple[Any, ...]]  # every matching row, in the list's order
    to_row: Callable[[Any], dict[str, Any]]  # a result row to its cells' values

    def header(self, *, private: bool) -> list[str]:
        return csv_io.columns(self.kind.export_columns, private=private)


def export(session: Session, kind: str, params: ListParams) -> Export:
    """One kind's export: for jurisdictions with the statuses as of `params.as_of`, and
    beside each id the columns that name what it refers to (RecordKind.labels)."""
    spec = BY_PLURAL[kind]
    statement = AGGREGATES[kind].ordered(session, params)
    as_of: date | None = getattr(params, "as_of", None)
    labels = _labels(session, spec)

    def to_row(row: Any) -> dict[str, Any]:
        data = public.of_row(row, as_of).model_dump(mode="json")
        for ref in spec.labels:
            data |= labels[ref].get(data[ref], {})
        return data

    return Export(spec, statement, to_row)


def everything(session: Session, kind: str) -> Export:
    """All records of a kind, in the list's default order."""
    return export(session, kind, BY_PLURAL[kind].filters())


def _labels(session: Session, spec: RecordKind) -> dict[str, dict[int, dict[str, Any]]]:
    """For each id column of the kind that has labels, the labels of every record it may
    name: `jurisdiction_id` -> {258: {"jurisdiction_name": "Marin County", ...}}. A few
    thousand jurisdictions and agencies at most, read once instead of joined per row."""
    found = {}
    for ref, shown in spec.labels.items():
        entity = ref.removesuffix("_id")
        model = BY_ENTITY[entity].model
        fields = [c.removeprefix(f"{entity}_") for c in shown]
        rows = session.execute(sa.select(col(model.id), *(getattr(model, f) for f in fields)))  # type: ignore[attr-defined]
        found[ref] = {row[0]: dict(zip(shown, row[1:], strict=True)) for row in rows}
    return found
