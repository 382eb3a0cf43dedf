"""Agencies: who letters go to and answers come from."""

from sqlmodel import Session

from ..models import Agency
from ..schemas import AgencyFilters
from . import records
from .listing import contains


def get(session: Session, agency_id: int) -> Agency:
    return records.get(session, Agency, agency_id)


def list_(session: Session, params: AgencyFilters) -> tuple[list[Agency], int]:
    extra = [contains(Agency.name, params.q)] if params.q else []
    return records.list_(
        session, Agency, params, equal=("kind", "state"), default_sort="name", extra=extra
    )
