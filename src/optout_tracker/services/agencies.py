"""Agencies: who letters go to and answers come from."""

from sqlmodel import Session

from ..models import Agency
from ..schemas import AgencyFilters
from . import records


def get(session: Session, agency_id: int) -> Agency:
    return records.get(session, Agency, agency_id)


def list_(session: Session, params: AgencyFilters) -> tuple[list[Agency], int]:
    extra = [Agency.name.ilike(f"%{params.q}%")] if params.q else []  # type: ignore[attr-defined]
    return records.list_(
        session, Agency, params, equal=("kind", "state"), default_sort="name", extra=extra
    )
