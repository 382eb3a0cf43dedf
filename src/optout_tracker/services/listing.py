"""Filtering, sorting and paging shared by every list."""

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ..errors import FieldError, InvalidInput
from ..schemas import ListParams

Columns = Mapping[str, Any]


def equality_filters(params: ListParams, columns: Columns, names: Sequence[str]) -> list[Any]:
    """`column = value` for each named parameter that was given."""
    return [columns[n] == getattr(params, n) for n in names if getattr(params, n) is not None]


def range_filters(params: ListParams, columns: Columns) -> list[Any]:
    """`<field>_from` / `<field>_to` parameters become inclusive bounds on `<field>`."""
    conditions = []
    for name, value in params.model_dump(exclude_none=True).items():
        if name.endswith("_from"):
            conditions.append(columns[name.removesuffix("_from")] >= value)
        elif name.endswith("_to"):
            conditions.append(columns[name.removesuffix("_to")] <= value)
    return conditions


def contains(column: Any, text: str) -> Any:
    """Case-insensitive substring match in which % and _ are plain characters."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def order_by(sort: str | None, columns: Columns, default: str, tiebreak: Any) -> list[Any]:
    """`sort=field` or `sort=-field`, then the id so that pages never overlap."""
    key = sort or default
    name = key.removeprefix("-")
    if name not in columns:
        raise InvalidInput(
            f"cannot sort by {name!r}",
            [
                FieldError(
                    "sort", f"must be one of: {', '.join(sorted(columns))} (prefix - to reverse)"
                )
            ],
        )
    column = columns[name]
    return [column.desc() if key.startswith("-") else column.asc(), tiebreak]


def fetch_page(
    session: Session,
    stmt: sa.Select[*tuple[Any, ...]],
    params: ListParams,
    *,
    sort_columns: Columns,
    default_sort: str,
    tiebreak: Any,
) -> tuple[list[Any], int]:
    """One query for the page and one for the total: never one per row."""
    ordering = order_by(params.sort, sort_columns, default_sort, tiebreak)
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(*ordering).limit(params.limit).offset(params.offset))
    return list(rows.all()), total
