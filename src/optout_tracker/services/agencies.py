"""Agencies: who letters go to and answers come from."""

import sqlalchemy as sa
from sqlmodel import Session, col

from ..enums import AgencyKind
from ..errors import FieldError, InvalidInput
from ..models import Agency, Announcement, Letter, Response
from ..schemas import AGENCIES, AgencyCreate, AgencyFilters, AgencyUpdate
from ..security import Principal
from . import records, status_projection
from .listing import contains

KIND = AGENCIES


def get(session: Session, agency_id: int) -> Agency:
    return records.get(session, Agency, agency_id)


LISTING = records.Listing(
    Agency,
    equal=("kind", "state"),
    default_sort="name",
    extra=lambda params: [contains(Agency.name, params.q)] if params.q else [],
)


def list_(session: Session, params: AgencyFilters) -> tuple[list[Agency], int]:
    return LISTING.page(session, params)


ordered = LISTING.ordered  # for exports


def state_bureau(session: Session, state: str) -> Agency | None:
    """The state identification bureau of a state (the first, if users added more)."""
    return session.scalars(
        sa.select(Agency)
        .filter_by(kind=AgencyKind.state_identification_bureau, state=state)
        .order_by(col(Agency.id))
    ).first()


def check(agency: Agency | AgencyCreate) -> None:
    if agency.kind is AgencyKind.state_identification_bureau and not agency.state:
        raise InvalidInput(
            "a state identification bureau belongs to a state",
            [FieldError("state", "is required for a state_identification_bureau")],
        )


def prepare(
    session: Session,
    data: AgencyCreate,
    response_window_days: int = 0,  # the signature of every kind's; unused here
) -> AgencyCreate:
    """A new agency's body as it will be written, checked."""
    check(data)
    return data


def create(session: Session, data: AgencyCreate, actor: Principal) -> Agency:
    return records.insert(session, Agency(**prepare(session, data).model_dump()), actor)


def update(session: Session, agency: Agency, data: AgencyUpdate, actor: Principal) -> Agency:
    changes = records.changes_of(Agency, data)
    check(Agency.model_validate({**agency.model_dump(), **changes}))
    records.update(session, agency, changes, actor)
    if {"kind", "name"} & changes.keys():  # both feed the derived status of its correspondents
        correspondents = session.scalars(
            sa.select(col(Letter.jurisdiction_id))
            .where(col(Letter.agency_id) == agency.id)
            .union(
                sa.select(col(Response.jurisdiction_id)).where(col(Response.agency_id) == agency.id)
            )
        )
        status_projection.refresh(session, set(correspondents))
    return agency


def delete(session: Session, agency: Agency, actor: Principal) -> None:
    records.refuse_if_used(
        session,
        agency.name,
        agency.id,
        Letter.agency_id,
        Response.agency_id,
        Announcement.agency_id,
    )
    records.delete(session, agency, actor)
