"""Campaign views across records: a jurisdiction's timeline, status counts, status by FIPS."""

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import CampaignStatus, JurisdictionKind
from ..models import Agency, Jurisdiction, JurisdictionStatus, Letter, Response, Vote
from ..schemas import (
    ByFipsFilters,
    FipsStatus,
    LetterPublic,
    ResponsePublic,
    StatusCounts,
    StatusSummary,
    Timeline,
    TimelineEntry,
    VotePublic,
)
from ..status import LetterFact, ResponseFact, VoteFact, describe, stage_of
from . import jurisdictions

J, S = Jurisdiction, JurisdictionStatus
STATUS = sa.func.coalesce(col(S.status), CampaignStatus.no_action.value)
_TYPE_ORDER = {"vote": 0, "letter": 1, "response": 2}


def timeline(session: Session, jurisdiction_id: int) -> Timeline:
    """Votes, letters and responses of one jurisdiction merged by date, oldest first."""
    jurisdiction, status = jurisdictions.get(session, jurisdiction_id)
    entries: list[TimelineEntry] = []
    for v in session.scalars(sa.select(Vote).where(col(Vote.jurisdiction_id) == jurisdiction_id)):
        fact = VoteFact(v.id or 0, v.held_on, v.outcome, v.body, v.measure, v.yes, v.no)
        entries.append(_entry("vote", fact, v.held_on, None, VotePublic.model_validate(v)))
    letter_rows = session.execute(
        sa.select(Letter, Agency)
        .join(Agency, col(Agency.id) == Letter.agency_id)
        .where(col(Letter.jurisdiction_id) == jurisdiction_id)
    )
    for letter, agency in letter_rows:
        lfact = LetterFact(
            letter.id or 0,
            letter.sent_on,
            letter.purpose,
            agency.kind,
            agency.name,
            letter.response_due_on,
            letter.channel,
        )
        entries.append(
            _entry("letter", lfact, letter.sent_on, agency.id, LetterPublic.model_validate(letter))
        )
    response_rows = session.execute(
        sa.select(Response, Agency)
        .join(Agency, col(Agency.id) == Response.agency_id)
        .where(col(Response.jurisdiction_id) == jurisdiction_id)
    )
    for response, agency in response_rows:
        rfact = ResponseFact(
            response.id or 0,
            response.received_on,
            response.kind,
            agency.name,
            response.letter_id,
            response.new_activation_on,
        )
        public = ResponsePublic.model_validate(response)
        entries.append(_entry("response", rfact, response.received_on, agency.id, public))
    entries.sort(key=lambda e: (e.date, _TYPE_ORDER[e.type], e.record.id))
    return Timeline(
        jurisdiction_id=jurisdiction_id,
        status=status.status if status else CampaignStatus.no_action,
        items=entries,
    )


def _entry(kind: Any, fact: Any, on: Any, agency_id: int | None, record: Any) -> TimelineEntry:
    return TimelineEntry(
        type=kind,
        date=on,
        stage=stage_of(fact),
        description=describe(fact),
        agency_id=agency_id,
        record=record,
    )


def summary(session: Session, kind: JurisdictionKind | None = None) -> StatusSummary:
    """Counts per status, overall and per state, in one grouped query."""
    stmt = (
        sa.select(col(J.state), STATUS, sa.func.count())
        .select_from(J)
        .outerjoin(S, col(S.jurisdiction_id) == J.id)
        .group_by(J.state, STATUS)
    )
    if kind is not None:
        stmt = stmt.where(col(J.kind) == kind)
    overall: dict[CampaignStatus, int] = dict.fromkeys(CampaignStatus, 0)
    by_state: dict[str, dict[CampaignStatus, int]] = defaultdict(
        lambda: dict.fromkeys(CampaignStatus, 0)
    )
    for state, status, count in session.execute(stmt):
        overall[CampaignStatus(status)] += count
        by_state[state][CampaignStatus(status)] += count
    return StatusSummary(
        as_of=today(),
        overall=StatusCounts(total=sum(overall.values()), counts=overall),
        by_state={
            state: StatusCounts(total=sum(counts.values()), counts=counts)
            for state, counts in sorted(by_state.items())
        },
    )


def by_fips(session: Session, filters: ByFipsFilters) -> list[FipsStatus]:
    """Every jurisdiction that has a FIPS code, with its status, for joining to a map."""
    stmt = (
        sa.select(J, S)
        .outerjoin(S, col(S.jurisdiction_id) == J.id)
        .where(col(J.fips).is_not(None))
        .order_by(J.fips)
    )
    if filters.state:
        stmt = stmt.where(col(J.state) == filters.state)
    if filters.kind:
        stmt = stmt.where(col(J.kind) == filters.kind)
    if filters.status:
        stmt = stmt.where(STATUS == filters.status)
    on = today()
    result = []
    for j, s in session.execute(stmt):
        public = jurisdictions.to_public(j, s, on)
        result.append(FipsStatus.model_validate(public.model_dump()))
    return result
