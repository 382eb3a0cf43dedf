"""Announcements: what ICE, DHS or a state said to every campaign in a scope at once."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import AgencyKind, AnnouncementEffect
from ..errors import FieldError, InvalidInput
from ..i18n import gettext
from ..models import Agency, Announcement
from ..schemas import (
    ANNOUNCEMENTS,
    NATIONAL,
    AnnouncementCreate,
    AnnouncementFilters,
    AnnouncementUpdate,
)
from ..security import Principal
from ..wording import words
from . import jurisdictions, records, status_projection

KIND = ANNOUNCEMENTS
# What the campaign rules may read of an announcement: a change of anything else (notes, a
# link) leaves every status in its scope as it was, so no jurisdiction is derived again.
FACT_FIELDS = frozenset({"agency_id", "announced_on", "scope", "effect", "title"})


def get(session: Session, announcement_id: int) -> Announcement:
    return records.get(session, Announcement, announcement_id)


LISTING = records.Listing(
    Announcement, equal=("agency_id", "scope", "effect"), default_sort="-announced_on"
)


def list_(session: Session, params: AnnouncementFilters) -> tuple[list[Announcement], int]:
    return LISTING.page(session, params)


ordered = LISTING.ordered  # for exports


def check(session: Session, announcement: Announcement | AnnouncementCreate) -> None:
    """The rules for an announcement about to be written (a row, or a new one's body)."""
    records.reference(session, Agency, announcement.agency_id, "agency_id")
    if announcement.announced_on > today():
        raise InvalidInput(
            "an announcement cannot be made in the future",
            [FieldError("announced_on", f"{announcement.announced_on} is in the future")],
        )


def prepare(
    session: Session,
    data: AnnouncementCreate,
    response_window_days: int = 0,  # the signature of every kind's; unused here
) -> AnnouncementCreate:
    """A new announcement's body as it will be written, checked."""
    check(session, data)
    return data


def create(session: Session, data: AnnouncementCreate, actor: Principal) -> Announcement:
    # records.created refreshes the status of the jurisdictions in its scope.
    return records.insert(session, Announcement(**prepare(session, data).model_dump()), actor)


def update(
    session: Session, announcement: Announcement, data: AnnouncementUpdate, actor: Principal
) -> Announcement:
    was_in = announcement.scope
    changes = records.changes_of(Announcement, data)
    check(session, Announcement.model_validate({**announcement.model_dump(), **changes}))
    moved = {k for k, v in changes.items() if getattr(announcement, k) != v} & FACT_FIELDS
    records.update(session, announcement, changes, actor)
    if moved:
        status_projection.refresh_scopes(session, {was_in, announcement.scope})
    return announcement


def delete(session: Session, announcement: Announcement, actor: Principal) -> None:
    records.delete(session, announcement, actor)
    status_projection.refresh_scopes(session, {announcement.scope})


# The organizers' form.

ANNOUNCERS = (AgencyKind.ice, AgencyKind.dhs, AgencyKind.state_identification_bureau)


@dataclass(frozen=True)
class FormChoices:
    """The options of the form's choice fields, as (value, label)."""

    agencies: list[tuple[int, str]]  # ICE and DHS, then each state's bureau
    scopes: list[tuple[str, str]]  # national, then each state by name
    effects: list[tuple[str, str]]


def form_choices(session: Session) -> FormChoices:
    said_by = session.scalars(sa.select(Agency).where(col(Agency.kind).in_(ANNOUNCERS)))
    national_first = sorted(said_by, key=lambda a: (a.state or "", a.name))
    agencies = [(a.id or 0, f"{a.name} ({a.state})" if a.state else a.name) for a in national_first]
    return FormChoices(
        agencies=agencies,
        scopes=[
            (NATIONAL, gettext("National: every jurisdiction")),
            *jurisdictions.state_choices(),
        ],
        effects=[(e.value, words(e.value)) for e in AnnouncementEffect],
    )
