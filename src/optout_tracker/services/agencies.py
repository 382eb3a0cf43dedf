"""Agencies: who letters go to and answers come from."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import AgencyKind
from ..errors import FieldError, InvalidInput
from ..i18n import Sentence
from ..models import Agency, Announcement, Jurisdiction, JurisdictionStatus, Letter, Response
from ..schemas import AGENCIES, AgencyCreate, AgencyFilters, AgencyUpdate
from ..security import Principal
from . import letter_chains, records, status_projection
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
            [FieldError("state", Sentence("is required for a state_identification_bureau"))],
        )
    checked = agency.contact_checked_on
    if checked is not None and checked > today():
        raise InvalidInput(
            "contact details cannot be checked in the future",
            [
                FieldError(
                    "contact_checked_on", Sentence("{day} is in the future", day=str(checked))
                )
            ],
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
    if {"kind", "name"} & changes.keys():
        refresh_correspondents(session, agency)
    return agency


def refresh_correspondents(session: Session, agency: Agency) -> None:
    """Re-derive the status of the jurisdictions that wrote to or heard from `agency`: its kind
    and name feed their status and its reason."""
    correspondents = session.scalars(
        sa.select(col(Letter.jurisdiction_id))
        .where(col(Letter.agency_id) == agency.id)
        .union(sa.select(col(Response.jurisdiction_id)).where(col(Response.agency_id) == agency.id))
    )
    status_projection.refresh(session, set(correspondents))


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


# The pages: the directory and one agency's record of letters and answers.

CONTACTS = ("email", "fax", "postal_address", "website")
KIND_ORDER = (
    AgencyKind.ice,
    AgencyKind.dhs,
    AgencyKind.fbi,
    AgencyKind.state_identification_bureau,
    AgencyKind.governor,
    AgencyKind.other,
)
AWAITING_SHOWN = 200  # a page lists this many letters awaiting an answer, oldest first


@dataclass(frozen=True)
class DirectoryEntry:
    agency: Agency
    known: tuple[str, ...]  # the contact fields (CONTACTS) that are filled in


@dataclass(frozen=True)
class DirectoryGroup:
    kind: AgencyKind
    entries: list[DirectoryEntry]


def directory(
    session: Session, kind: AgencyKind | None = None, state: str | None = None
) -> list[DirectoryGroup]:
    """Every agency matching the filters, grouped by kind (national ones first), bureaus by
    state, each with the contacts it has."""
    stmt = sa.select(Agency).order_by(col(Agency.state), col(Agency.name), col(Agency.id))
    if kind is not None:
        stmt = stmt.where(col(Agency.kind) == kind)
    if state is not None:
        stmt = stmt.where(col(Agency.state) == state)
    by_kind: dict[AgencyKind, list[DirectoryEntry]] = {}
    for agency in session.scalars(stmt):
        known = tuple(c for c in CONTACTS if getattr(agency, c))
        by_kind.setdefault(agency.kind, []).append(DirectoryEntry(agency, known))
    return [DirectoryGroup(k, by_kind[k]) for k in KIND_ORDER if k in by_kind]


@dataclass(frozen=True)
class AwaitingLetter:
    letter_id: int
    sent_on: date
    response_due_on: date | None
    purpose: str
    jurisdiction_name: str
    jurisdiction_slug: str


@dataclass(frozen=True)
class AgencyStats:
    letters_received: int
    answers_given: int  # responses this agency sent
    letters_answered: int  # letters to it with a linked response, from whoever
    median_days_to_answer: float | None  # from a letter to its first linked response
    awaiting_total: int  # letters to it with no linked response, of campaigns still open
    awaiting: list[AwaitingLetter]  # the oldest AWAITING_SHOWN of them


def stats(session: Session, agency_id: int) -> AgencyStats:
    """What an agency received and answered, computed by the database: a few queries
    whatever the number of letters."""
    first_answer = (
        sa.select(
            col(Response.letter_id).label("letter_id"),
            sa.func.min(Response.received_on).label("received_on"),
        )
        .where(col(Response.letter_id).is_not(None))
        .group_by(col(Response.letter_id))
        .subquery()
    )
    days = _days_between(session, col(Letter.sent_on), first_answer.c.received_on).label("days")
    delays = (
        sa.select(days)
        .select_from(Letter)
        .join(first_answer, first_answer.c.letter_id == col(Letter.id))
        .where(col(Letter.agency_id) == agency_id)
    )
    answered = _count(session, delays.subquery())
    median = None
    if answered:
        middle = delays.order_by(days).offset((answered - 1) // 2).limit(2 - answered % 2)
        values = list(session.scalars(middle))
        median = sum(values) / len(values)
    closed_on = col(JurisdictionStatus.campaign_closed_on)
    unanswered = (
        sa.select(Letter, col(Jurisdiction.name), col(Jurisdiction.slug))
        .join(Jurisdiction, col(Jurisdiction.id) == col(Letter.jurisdiction_id))
        .outerjoin(
            JurisdictionStatus,
            col(JurisdictionStatus.jurisdiction_id) == col(Letter.jurisdiction_id),
        )
        .where(
            col(Letter.agency_id) == agency_id,
            col(Letter.id).not_in(letter_chains.answered_ids()),
            # As the contract says: a letter sent before its campaign was closed (the program
            # ended) never awaits an answer again.
            sa.or_(closed_on.is_(None), col(Letter.sent_on) >= closed_on),
        )
    )
    awaiting = [
        AwaitingLetter(
            letter.id or 0, letter.sent_on, letter.response_due_on, letter.purpose, name, slug
        )
        for letter, name, slug in session.execute(
            unanswered.order_by(col(Letter.sent_on), col(Letter.id)).limit(AWAITING_SHOWN)
        )
    ]
    return AgencyStats(
        letters_received=_count(session, sa.select(Letter).filter_by(agency_id=agency_id)),
        answers_given=_count(session, sa.select(Response).filter_by(agency_id=agency_id)),
        letters_answered=answered,
        median_days_to_answer=median,
        awaiting_total=_count(session, unanswered),
        awaiting=awaiting,
    )


def _count(session: Session, rows: Any) -> int:
    """How many rows a select (or a subquery) yields."""
    source = rows.subquery() if isinstance(rows, sa.Select) else rows
    return session.scalar(sa.select(sa.func.count()).select_from(source)) or 0


def _days_between(session: Session, start: Any, end: Any) -> sa.ColumnElement[int]:
    """Whole days from `start` to `end` (dates), in the database's own arithmetic."""
    if session.get_bind().dialect.name == "sqlite":  # dates are ISO text there
        return sa.cast(sa.func.julianday(end) - sa.func.julianday(start), sa.Integer)
    return sa.cast(end - start, sa.Integer)  # PostgreSQL: date - date is a number of days
