"""Reading any table by id or as a filtered page: the shared half of every aggregate."""

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from ..errors import NotFound
from ..models import Jurisdiction
from ..schemas import EventFilters, ListParams
from .listing import equality_filters, fetch_page, range_filters

T = TypeVar("T", bound=SQLModel)


PRIVATE_COLUMNS = frozenset({"private_notes"})


def columns_of(model: type[SQLModel]) -> dict[str, Any]:
    """Columns a list may filter and sort by: private ones would leak through the order."""
    return {c.name: c for c in model.__table__.c if c.name not in PRIVATE_COLUMNS}  # type: ignore[attr-defined]


def get(session: Session, model: type[T], record_id: int) -> T:
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"no {model.__tablename__} with id {record_id}")
    return record


def list_(
    session: Session,
    model: type[T],
    params: ListParams,
    *,
    equal: tuple[str, ...],
    default_sort: str,
    extra: list[Any] | None = None,
) -> tuple[list[T], int]:
    """A page of `model` rows filtered by equality, `_from`/`_to` ranges and `updated_since`."""
    columns = columns_of(model)
    stmt = sa.select(model).where(
        *equality_filters(params, columns, equal), *range_filters(params, columns), *(extra or [])
    )
    if params.updated_since is not None:
        stmt = stmt.where(columns["updated_at"] >= params.updated_since)
    if isinstance(params, EventFilters) and params.state is not None:
        stmt = stmt.join(Jurisdiction, col(Jurisdiction.id) == columns["jurisdiction_id"]).where(
            col(Jurisdiction.state) == params.state
        )
    rows, total = fetch_page(
        session,
        stmt,
        params,
        sort_columns=columns,
        default_sort=default_sort,
        tiebreak=columns["id"],
    )
    return [row[0] for row in rows], total
