"""Campaign views across records: a jurisdiction's timeline, status counts, status by FIPS."""

from collections import defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import STATE_LEVEL, CampaignStatus, JurisdictionKind, VoteOutcome
from ..models import Jurisdiction, JurisdictionStatus, Letter, Response, Vote
from ..schemas import (
    ByFipsFilters,
    FipsStatus,
    JurisdictionPublic,
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
from . import jurisdictions, public, status_projection
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


def by_fips(
    session: Session, filters: ByFipsFilters, *, state_level: bool = False
) -> list[FipsStatus]:
    """Every jurisdiction that has a FIPS code, with its status, for joining to a map
    (only states, DC and territories with `state_level`)."""
    # Plain columns, not ORM objects: this answers 3,000+ rows for every map drawn.
    columns = (
        J.fips, J.id, J.slug, J.name, J.kind, J.state, S.status, S.status_since,
        S.notice_complete, S.next_response_due_on, J.activated_on,
    )  # fmt: skip
    stmt = (
        sa.select(*(col(c) for c in columns))
        .join(S, col(S.jurisdiction_id) == J.id)
        .where(col(J.fips).is_not(None))
        .order_by(J.fips)
    )  # fmt: skip
    if filters.state:
        stmt = stmt.where(col(J.state) == filters.state)
    if filters.kind:
        stmt = stmt.where(col(J.kind) == filters.kind)
    if filters.status:
        stmt = stmt.where(col(S.status) == filters.status)
    if state_level:
        stmt = stmt.where(col(J.kind).in_(STATE_LEVEL))
    on = today()
    return [
        FipsStatus(
            fips=fips, id=id_, slug=slug, name=name, kind=kind, state=state, status=status,
            status_since=since, notice_complete=complete, overdue=is_overdue(due, on),
            activated=is_activated(activated_on, on),
        )
        for fips, id_, slug, name, kind, state, status, since, complete, due, activated_on
        in session.execute(stmt)
    ]  # fmt: skip


def data_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever any jurisdiction or its status does: a cache key for derived views.

    Counters, not timestamps: a version or revision only goes up and an id is never reused,
    whatever the clocks of the app hosts say or the order in which transactions commit.
    """
    return tuple(
        session.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(J.id),
                sa.func.sum(J.version),
                sa.func.sum(S.revision),
            )
            .select_from(J)
            .join(S, col(S.jurisdiction_id) == J.id)
        ).one()
    )


# For the home page: what needs doing, what happened, what is coming.


def follow_up(session: Session, limit: int = 20) -> list[JurisdictionPublic]:
    """Jurisdictions waiting past the due date, or notified on only one of SIB and ICE."""
    one_sided = col(S.sib_notified) != col(S.ice_notified)
    rows = session.execute(
        jurisdictions.select_with_status()
        .where(sa.or_(status_projection.overdue_condition(), one_sided))
        .order_by(col(S.next_response_due_on).asc().nulls_last(), J.name)
        .limit(limit)
    )
    on = today()
    return [public.jurisdiction(j, s, on) for j, s in rows]


def recent_events(session: Session, limit: int = 10) -> list[tuple[Jurisdiction, TimelineEntry]]:
    """The latest votes, letters and responses anywhere, newest first."""
    latest: list[tuple[date, int, str, int]] = []
    for model, kind, on in (
        (Vote, "vote", col(Vote.held_on)),
        (Letter, "letter", col(Letter.sent_on)),
        (Response, "response", col(Response.received_on)),
    ):
        stmt = sa.select(on, col(model.jurisdiction_id), col(model.id))
        stmt = stmt.where(on <= today()).order_by(on.desc()).limit(limit)
        latest += [(d, j_id, kind, r_id) for d, j_id, r_id in session.execute(stmt)]
    latest.sort(reverse=True)
    wanted = {j_id for _, j_id, _, _ in latest[:limit]}
    entries = {j_id: timeline(session, j_id).items for j_id in wanted}
    named = {j.id: j for j in session.scalars(sa.select(J).where(col(J.id).in_(wanted)))}
    out = []
    for _, j_id, kind, r_id in latest[:limit]:
        entry = next(e for e in entries[j_id] if e.type == kind and e.record.id == r_id)
        out.append((named[j_id], entry))
    return out


def upcoming(
    session: Session, limit: int = 20
) -> tuple[list[tuple[Jurisdiction, Vote]], list[Jurisdiction]]:
    """Scheduled votes and scheduled activation dates from today on, soonest first."""
    on = today()
    votes = session.execute(
        sa.select(J, Vote)
        .join(Vote, col(Vote.jurisdiction_id) == J.id)
        .where(col(Vote.outcome) == VoteOutcome.scheduled, col(Vote.held_on) >= on)
        .order_by(col(Vote.held_on))
        .limit(limit)
    )
    activations = session.scalars(
        sa.select(J)
        .where(col(J.scheduled_activation_on) >= on)
        .order_by(col(J.scheduled_activation_on))
        .limit(limit)
    )
    return [(j, v) for j, v in votes], list(activations)
