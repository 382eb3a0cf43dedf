"""Campaign views across records: a jurisdiction's timeline, status counts, status by FIPS."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import STATE_LEVEL, AnnouncementEffect, CampaignStatus, VoteOutcome
from ..i18n import gettext
from ..models import Agency, Announcement, Jurisdiction, JurisdictionStatus, Letter, Response, Vote
from ..schemas import (
    NATIONAL,
    AnnouncementPublic,
    ByFipsFilters,
    CoverageCounts,
    CoverageSummary,
    FipsStatus,
    LetterPublic,
    PageParams,
    ResponsePublic,
    StatusCounts,
    StatusSummary,
    SummaryFilters,
    Timeline,
    TimelineEntry,
    VotePublic,
)
from ..status import (
    NOTICE_AGENCIES,
    NOTICE_PURPOSES,
    TYPE_ORDER,
    Fact,
    LetterFact,
    ResponseFact,
    VoteFact,
    describe,
    event_date,
    is_activated,
    is_overdue,
    rollout,
    stage_of,
)
from . import jurisdictions, status_as_of
from .status_projection import letter_fact, response_fact, vote_fact

J, S = Jurisdiction, JurisdictionStatus


# Each kind of event with its table, its date and its rank on one date (TYPE_ORDER).
EVENT_KINDS: tuple[tuple[str, type[Vote] | type[Letter] | type[Response], Any, int], ...] = (
    ("vote", Vote, Vote.held_on, TYPE_ORDER[VoteFact]),
    ("letter", Letter, Letter.sent_on, TYPE_ORDER[LetterFact]),
    ("response", Response, Response.received_on, TYPE_ORDER[ResponseFact]),
)
# Announcements are said to every jurisdiction in their scope, not filed under one; on the
# timeline they come after the jurisdiction's own events of the same date.
ANNOUNCEMENT_RANK = max(rank for *_, rank in EVENT_KINDS) + 1
KIND_OF_RANK = {rank: kind for kind, _, _, rank in EVENT_KINDS} | {
    ANNOUNCEMENT_RANK: "announcement"
}


def _in_scope_of(jurisdiction_id: int) -> sa.ColumnElement[bool]:
    """Announcements said to this jurisdiction: national ones and those to its state."""
    state = sa.select(col(J.state)).where(col(J.id) == jurisdiction_id).scalar_subquery()
    return col(Announcement.scope).in_([sa.literal(NATIONAL), state])


def _sources(jurisdiction_id: int) -> list[tuple[Any, Any, int, sa.ColumnElement[bool]]]:
    """Each kind of event on the jurisdiction's timeline: its table, date column and rank,
    and which of its rows the jurisdiction's timeline shows."""
    own = [
        (model, on, rank, col(model.jurisdiction_id) == jurisdiction_id)
        for _, model, on, rank in EVENT_KINDS
    ]
    said = (Announcement, Announcement.announced_on, ANNOUNCEMENT_RANK)
    return [*own, (*said, _in_scope_of(jurisdiction_id))]


def _events_of(jurisdiction_id: int) -> sa.Subquery:
    """(day, rank, id) of every event of the jurisdiction: the timeline's order, in SQL, so
    that a page of a jurisdiction with 100,000 events loads 50 records, not all of them."""
    return sa.union_all(
        *(
            sa.select(
                col(on).label("day"),
                sa.literal_column(str(rank)).label("rank"),
                col(model.id).label("id"),
            ).where(shown)
            for model, on, rank, shown in _sources(jurisdiction_id)
        )
    ).subquery()


def count_events(session: Session, jurisdiction_id: int) -> int:
    first, *rest = (
        sa.select(sa.func.count()).select_from(model).where(shown).scalar_subquery()
        for model, _, _, shown in _sources(jurisdiction_id)
    )
    return session.scalar(sa.select(sum(rest, first))) or 0


def events(
    session: Session, jurisdiction_id: int, params: PageParams, total: int
) -> list[TimelineEntry]:
    """One page of the jurisdiction's `total` events, oldest first: by date, kind
    (TYPE_ORDER), id.

    A page in the later half is read from the end: the database sorts and skips every row
    before the page, and the latest page is the one the dossier shows.
    """
    merged = _events_of(jurisdiction_id)
    order: list[sa.ColumnElement[Any]] = [merged.c.day, merged.c.rank, merged.c.id]
    limit, offset = params.limit, params.offset
    backwards = offset * 2 > total
    if backwards:
        limit = max(min(limit, total - offset), 0)
        offset = max(total - params.offset - limit, 0)
        order = [c.desc() for c in order]
    rows = session.execute(
        sa.select(merged.c.rank, merged.c.id).order_by(*order).limit(limit).offset(offset)
    ).all()
    keys = [(KIND_OF_RANK[rank], record_id) for rank, record_id in rows]
    found = _entries(session, keys)
    # A record deleted since the query above (another transaction committed) is left out.
    return [found[key] for key in (reversed(keys) if backwards else keys) if key in found]


def timeline(session: Session, jurisdiction_id: int, params: PageParams) -> Timeline:
    """A page of one jurisdiction's votes, letters and responses, and the announcements in
    its scope, merged by date."""
    _, status = jurisdictions.get(session, jurisdiction_id)
    total = count_events(session, jurisdiction_id)
    return Timeline(
        jurisdiction_id=jurisdiction_id,
        status=status.status,
        items=events(session, jurisdiction_id, params, total),
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


def entry(session: Session, kind: str, record_id: int) -> TimelineEntry:
    """One vote, letter or response as the timeline shows it (a delete's confirmation names
    what goes in these words)."""
    return _entries(session, [(kind, record_id)])[kind, record_id]


def _entries(session: Session, keys: list[tuple[str, int]]) -> dict[tuple[str, int], TimelineEntry]:
    """The timeline entries of these (kind, id) events, described from their own rows: one
    query per kind."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for kind, record_id in keys:
        wanted[kind].append(record_id)
    found: dict[tuple[str, int], TimelineEntry] = {}
    if wanted["vote"]:
        for v in session.scalars(sa.select(Vote).where(col(Vote.id).in_(wanted["vote"]))):
            found["vote", v.id or 0] = _entry(
                "vote", vote_fact(v), None, VotePublic.model_validate(v)
            )
    if wanted["letter"]:
        for x, a in _with_agency(session, Letter, wanted["letter"]):
            found["letter", x.id] = _entry(
                "letter", letter_fact(x, a), a.id, LetterPublic.model_validate(x)
            )
    if wanted["response"]:
        for x, a in _with_agency(session, Response, wanted["response"]):
            found["response", x.id] = _entry(
                "response", response_fact(x, a), a.id, ResponsePublic.model_validate(x)
            )
    if wanted["announcement"]:
        for x, a in _with_agency(session, Announcement, wanted["announcement"]):
            found["announcement", x.id] = TimelineEntry(
                type="announcement",
                date=x.announced_on,
                stage=None,  # until the campaign rules apply announcements' effects
                description=_announced(x, a.name),
                agency_id=a.id,
                record=AnnouncementPublic.model_validate(x),
            )
    return found


def _announced(announcement: Announcement, agency_name: str) -> str:
    """e.g. 'ICE Secure Communities announced nationwide: participation is mandatory'."""
    agency, title = agency_name, announcement.title
    if announcement.scope == NATIONAL:
        return gettext("{agency} announced nationwide: {title}").format(agency=agency, title=title)
    return gettext("{agency} announced in {scope}: {title}").format(
        agency=agency, scope=announcement.scope, title=title
    )


def _with_agency(session: Session, model: type[Any], ids: list[int]) -> Iterable[Any]:
    return session.execute(
        sa.select(model, Agency)
        .join(Agency, col(Agency.id) == model.agency_id)
        .where(col(model.id).in_(ids))
    )


def _entry(kind: Any, fact: Fact, agency_id: int | None, record: Any) -> TimelineEntry:
    return TimelineEntry(
        type=kind,
        date=event_date(fact),
        stage=stage_of(fact),
        description=str(describe(fact)),
        agency_id=agency_id,
        record=record,
    )


def first_notice_on(session: Session, jurisdiction_id: int) -> date | None:
    """When the jurisdiction first sent notice (status.is_notice: an opt-out or delay request
    to a SIB, ICE or DHS), if it did."""
    return session.scalar(
        sa.select(sa.func.min(Letter.sent_on))
        .join(Agency, col(Agency.id) == Letter.agency_id)
        .where(
            col(Letter.jurisdiction_id) == jurisdiction_id,
            col(Letter.purpose).in_(NOTICE_PURPOSES),
            col(Agency.kind).in_(NOTICE_AGENCIES),
        )
    )


def latest_letters(session: Session, jurisdiction_id: int, limit: int) -> list[Letter]:
    """The jurisdiction's latest letters, newest first (those a new answer most likely
    answers)."""
    return list(
        session.scalars(
            sa.select(Letter)
            .where(col(Letter.jurisdiction_id) == jurisdiction_id)
            .order_by(col(Letter.sent_on).desc(), col(Letter.id).desc())
            .limit(limit)
        )
    )


def summary(session: Session, params: SummaryFilters) -> StatusSummary:
    """Counts per status and per effective status, and of those activated despite opting
    out, overall and per state, as of `params.as_of`, in one grouped query."""
    status = status_as_of.status_table(session, params.as_of)
    keys = (
        col(J.state), status.c.status, status.c.effective_status,
        status.c.activated_despite_opt_out,
    )  # fmt: skip
    stmt = (
        sa.select(*keys, sa.func.count())
        .select_from(J)
        .join(status, status.c.jurisdiction_id == J.id)
        .group_by(*keys)
    )
    if params.kind is not None:
        stmt = stmt.where(col(J.kind) == params.kind)
    overall = _Tally()
    by_state: dict[str, _Tally] = defaultdict(_Tally)
    for state, own, effective, despite, count in session.execute(stmt):
        for tally in (overall, by_state[state]):
            tally.add(CampaignStatus(own), CampaignStatus(effective), bool(despite), count)
    return StatusSummary(
        as_of=params.as_of or today(),
        overall=overall.counts(),
        by_state={state: tally.counts() for state, tally in sorted(by_state.items())},
        effective=CoverageSummary(
            overall=overall.coverage(),
            by_state={state: tally.coverage() for state, tally in sorted(by_state.items())},
        ),
    )


@dataclass
class _Tally:
    own: dict[CampaignStatus, int] = field(default_factory=lambda: dict.fromkeys(CampaignStatus, 0))
    effective: dict[CampaignStatus, int] = field(
        default_factory=lambda: dict.fromkeys(CampaignStatus, 0)
    )
    despite: int = 0

    def add(
        self, status: CampaignStatus, effective: CampaignStatus, despite: bool, count: int
    ) -> None:
        self.own[status] += count
        self.effective[effective] += count
        self.despite += count if despite else 0

    def counts(self) -> StatusCounts:
        return StatusCounts(total=sum(self.own.values()), counts=self.own)

    def coverage(self) -> CoverageCounts:
        return CoverageCounts(counts=self.effective, activated_despite_opt_out=self.despite)


def by_fips(
    session: Session, filters: ByFipsFilters, *, state_level: bool = False
) -> list[FipsStatus]:
    """Every jurisdiction that has a FIPS code, with its status as of `filters.as_of`, for
    joining to a map (only states, DC and territories with `state_level`)."""
    status = status_as_of.status_table(session, filters.as_of)
    # Plain columns, not ORM objects: this answers 3,000+ rows for every map drawn.
    place = (
        J.fips, J.id, J.slug, J.name, J.kind, J.state, J.activated_on, J.scheduled_activation_on,
    )  # fmt: skip
    derived = (
        "status", "status_since", "effective_status", "effective_status_via", "notice_complete",
        "next_response_due_on", "activated_despite_opt_out",
    )  # fmt: skip
    stmt = (
        sa.select(*(col(c) for c in place), *(status.c[name] for name in derived))
        .join(status, status.c.jurisdiction_id == J.id)
        .where(col(J.fips).is_not(None))
        .order_by(J.fips)
    )
    if filters.state:
        stmt = stmt.where(col(J.state) == filters.state)
    if filters.kind:
        stmt = stmt.where(col(J.kind) == filters.kind)
    if filters.status:
        stmt = stmt.where(status.c.status == filters.status)
    if state_level:
        stmt = stmt.where(col(J.kind).in_(STATE_LEVEL))
    on = filters.as_of or today()
    return [
        FipsStatus(
            fips=fips, id=id_, slug=slug, name=name, kind=kind, state=state, status=own,
            status_since=since, effective_status=effective, effective_status_via=via,
            notice_complete=complete, overdue=is_overdue(due, on),
            activated=is_activated(activated_on, on), activated_despite_opt_out=despite,
            rollout=rollout(activated_on, scheduled_on, on, despite),
        )
        for (
            fips, id_, slug, name, kind, state, activated_on, scheduled_on, own, since,
            effective, via, complete, due, despite,
        ) in session.execute(stmt)
    ]  # fmt: skip


def story_span(session: Session) -> tuple[date, date] | None:
    """From the first dated fact (an activation or an event) to the last that could change
    a status or the rollout (announcements that change nothing left out): the days a map
    is worth stepping through. None without any."""
    dated = [
        (J.activated_on, None),
        *((on, None) for _, _, on, _ in EVENT_KINDS),
        (Announcement.announced_on, col(Announcement.effect) != AnnouncementEffect.none),
    ]
    firsts = [sa.select(sa.func.min(on)).scalar_subquery() for on, _ in dated]
    lasts = [
        sa.select(sa.func.max(on)).where(sa.true() if where is None else where).scalar_subquery()
        for on, where in dated
    ]
    found = session.execute(sa.select(*firsts, *lasts)).one()
    starts = [d for d in found[: len(dated)] if d is not None]
    ends = [d for d in found[len(dated) :] if d is not None]
    return (min(starts), max(ends)) if starts and ends else None


# For the home page: what needs doing, what happened, what is coming.


def recent_events(session: Session, limit: int = 10) -> list[tuple[Jurisdiction, TimelineEntry]]:
    """The latest votes, letters and responses anywhere, newest first."""
    latest: list[tuple[date, int, int, int]] = []
    for _, model, on, rank in EVENT_KINDS:
        stmt = sa.select(col(on), col(model.jurisdiction_id), col(model.id))
        stmt = stmt.where(col(on) <= today()).order_by(col(on).desc(), col(model.id).desc())
        latest += [(d, rank, r_id, j_id) for d, j_id, r_id in session.execute(stmt.limit(limit))]
    latest = sorted(latest, reverse=True)[:limit]
    entries = _entries(session, [(KIND_OF_RANK[rank], r_id) for _, rank, r_id, _ in latest])
    wanted = {j_id for *_, j_id in latest}
    named = {j.id: j for j in session.scalars(sa.select(J).where(col(J.id).in_(wanted)))}
    shown = [(j_id, (KIND_OF_RANK[rank], r_id)) for _, rank, r_id, j_id in latest]
    return [(named[j_id], entries[key]) for j_id, key in shown if key in entries and j_id in named]


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
