"""Campaign views across records: a jurisdiction's timeline, status counts, status by FIPS."""

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import CampaignStatus, JurisdictionKind
from ..models import Jurisdiction, JurisdictionStatus
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
from ..status import Fact, describe, event_date, stage_of
from . import jurisdictions
from .status_projection import letter_fact, load_events, response_fact, vote_fact

J, S = Jurisdiction, JurisdictionStatus
STATUS = sa.func.coalesce(col(S.status), CampaignStatus.no_action.value)
_TYPE_ORDER = {"vote": 0, "letter": 1, "response": 2}


def timeline(session: Session, jurisdiction_id: int) -> Timeline:
    """Votes, letters and responses of one jurisdiction merged by date, oldest first."""
    _, status = jurisdictions.get(session, jurisdiction_id)
    votes, letters, responses = load_events(session, [jurisdiction_id])
    entries = [
        *(_entry("vote", vote_fact(v), None, VotePublic.model_validate(v)) for v in votes),
        *(
            _entry("letter", letter_fact(x, a), a.id, LetterPublic.model_validate(x))
            for x, a in letters
        ),
        *(
            _entry("response", response_fact(x, a), a.id, ResponsePublic.model_validate(x))
            for x, a in responses
        ),
    ]
    entries.sort(key=lambda e: (e.date, _TYPE_ORDER[e.type], e.record.id))
    return Timeline(
        jurisdiction_id=jurisdiction_id,
        status=status.status if status else CampaignStatus.no_action,
        items=entries,
    )


def _entry(kind: Any, fact: Fact, agency_id: int | None, record: Any) -> TimelineEntry:
    return TimelineEntry(
        type=kind,
        date=event_date(fact),
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
