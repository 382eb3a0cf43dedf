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
from ..status import (
    TYPE_ORDER,
    Fact,
    LetterFact,
    ResponseFact,
    VoteFact,
    describe,
    event_date,
    is_activated,
    is_overdue,
    stage_of,
)
from . import jurisdictions
from .status_projection import letter_fact, load_events, response_fact, vote_fact

J, S = Jurisdiction, JurisdictionStatus


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
    order = {
        "vote": TYPE_ORDER[VoteFact],
        "letter": TYPE_ORDER[LetterFact],
        "response": TYPE_ORDER[ResponseFact],
    }
    entries.sort(key=lambda e: (e.date, order[e.type], e.record.id))
    return Timeline(
        jurisdiction_id=jurisdiction_id,
        status=status.status,
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
        sa.select(col(J.state), col(S.status), sa.func.count())
        .select_from(J)
        .join(S, col(S.jurisdiction_id) == J.id)
        .group_by(J.state, S.status)
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
        .join(S, col(S.jurisdiction_id) == J.id)
        .where(col(J.fips).is_not(None))
        .order_by(J.fips)
    )
    if filters.state:
        stmt = stmt.where(col(J.state) == filters.state)
    if filters.kind:
        stmt = stmt.where(col(J.kind) == filters.kind)
    if filters.status:
        stmt = stmt.where(col(S.status) == filters.status)
    on = today()
    return [
        FipsStatus(
            fips=j.fips, id=j.id, slug=j.slug, name=j.name, kind=j.kind, state=j.state,
            status=s.status, status_since=s.status_since, notice_complete=s.notice_complete,
            overdue=is_overdue(s.next_response_due_on, on),
            activated=is_activated(j.activated_on, on),
        )
        for j, s in session.execute(stmt)
    ]  # fmt: skip
