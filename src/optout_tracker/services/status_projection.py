"""Keeps jurisdiction_status in step with the events and the calendar: the only writer of
that table. It holds each jurisdiction's status as of today.

Call `refresh` in the same transaction as any change to a jurisdiction's votes, letters or
responses, so that lists can filter and count by status in the database. A row also says
when the calendar alone changes its answer (`recompute_on`: an upcoming event's date);
`keep_current` derives those rows again on that day, before anything reads them.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from time import monotonic
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col

from .. import data_version
from ..clock import today
from ..db import in_chunks, unit_of_work
from ..db_types import utcnow
from ..enums import STATE_LEVEL, CampaignStatus, EffectiveVia
from ..models import (
    Agency,
    Announcement,
    Jurisdiction,
    JurisdictionStatus,
    Letter,
    Response,
    Vote,
)
from ..schemas import NATIONAL
from ..status import (
    AnnouncementFact,
    CampaignState,
    Fact,
    LetterFact,
    ResponseFact,
    VoteFact,
    activated_despite_opt_out,
    derive_status,
    effective_status,
    opposed_on,
)
from . import mail, outbox

J = Jurisdiction
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatusChange:
    jurisdiction_id: int
    old: CampaignStatus
    new: CampaignStatus


# The fields of each fact, in order, as columns: selected as they are when `refresh` derives
# thousands of states at once, or read off loaded records for the timeline.
VOTE_FACT: tuple[Any, ...] = (
    Vote.id,
    Vote.held_on,
    Vote.outcome,
    Vote.body,
    Vote.measure,
    Vote.yes,
    Vote.no,
    Vote.topic,
)
LETTER_FACT: tuple[Any, ...] = (
    Letter.id,
    Letter.sent_on,
    Letter.purpose,
    Agency.kind,
    Agency.name,
    Letter.response_due_on,
    Letter.channel,
    Letter.follows_letter_id,
)
RESPONSE_FACT: tuple[Any, ...] = (
    Response.id,
    Response.received_on,
    Response.kind,
    Agency.name,
    Response.letter_id,
    Response.new_activation_on,
)
ANNOUNCEMENT_FACT: tuple[Any, ...] = (
    Announcement.id,
    Announcement.announced_on,
    Announcement.effect,
    Agency.name,
    Announcement.title,
)


def _values(columns: tuple[Any, ...], *records: SQLModel) -> list[Any]:
    by_class = {type(record): record for record in records}
    return [getattr(by_class[column.class_], column.key) for column in columns]


def vote_fact(v: Vote) -> VoteFact:
    return VoteFact(*_values(VOTE_FACT, v))


def letter_fact(letter: Letter, agency: Agency) -> LetterFact:
    return LetterFact(*_values(LETTER_FACT, letter, agency))


def response_fact(response: Response, agency: Agency) -> ResponseFact:
    return ResponseFact(*_values(RESPONSE_FACT, response, agency))


def _fact_statements(jurisdiction_ids: list[int]) -> list[tuple[type[Fact], sa.Select[Any]]]:
    """Each kind of fact with the query of its fields, the jurisdiction's id first.

    Plain columns, not ORM objects: `refresh` derives the state of thousands of
    jurisdictions at once after an import.
    """
    votes = sa.select(col(Vote.jurisdiction_id), *VOTE_FACT).where(
        col(Vote.jurisdiction_id).in_(jurisdiction_ids)
    )
    letters = (
        sa.select(col(Letter.jurisdiction_id), *LETTER_FACT)
        .join(Agency, col(Agency.id) == Letter.agency_id)
        .where(col(Letter.jurisdiction_id).in_(jurisdiction_ids))
    )
    responses = (
        sa.select(col(Response.jurisdiction_id), *RESPONSE_FACT)
        .join(Agency, col(Agency.id) == Response.agency_id)
        .where(col(Response.jurisdiction_id).in_(jurisdiction_ids))
    )
    return [(VoteFact, votes), (LetterFact, letters), (ResponseFact, responses)]


def _announcement_facts(
    session: Session, jurisdiction_ids: list[int]
) -> dict[int, list[AnnouncementFact]]:
    """The announcements whose scope covers each jurisdiction (national, or its state's):
    a few dozen rows at most, read whole."""
    by_scope: dict[str, list[AnnouncementFact]] = defaultdict(list)
    announced = sa.select(col(Announcement.scope), *ANNOUNCEMENT_FACT).join(
        Agency, col(Agency.id) == Announcement.agency_id
    )
    for scope, *fields in session.execute(announced):
        by_scope[scope].append(AnnouncementFact(*fields))
    if not by_scope:
        return {}
    states = session.execute(
        sa.select(col(Jurisdiction.id), col(Jurisdiction.state)).where(
            col(Jurisdiction.id).in_(jurisdiction_ids)
        )
    )
    return {i: [*by_scope[NATIONAL], *by_scope[state]] for i, state in states}


def facts_of(
    session: Session, jurisdiction_id: int
) -> tuple[list[VoteFact], list[LetterFact], list[ResponseFact], list[AnnouncementFact]]:
    """One jurisdiction's facts, and the announcements in its scope: what the rules read
    (status.derive_status, status.next_steps)."""
    found: dict[type[Fact], list[Any]] = {}
    for fact, statement in _fact_statements([jurisdiction_id]):
        found[fact] = [fact(*fields) for _, *fields in session.execute(statement)]
    announced = _announcement_facts(session, [jurisdiction_id]).get(jurisdiction_id, [])
    return found[VoteFact], found[LetterFact], found[ResponseFact], announced


Facts = tuple[list[VoteFact], list[LetterFact], list[ResponseFact], list[AnnouncementFact]]


def facts_of_many(session: Session, ids: list[int]) -> dict[int, Facts]:
    """The facts of each of these jurisdictions, and the announcements in its scope (as
    `facts_of`): four queries per 500."""
    found: dict[type[Fact], dict[int, list[Any]]] = {
        fact: defaultdict(list) for fact in (VoteFact, LetterFact, ResponseFact)
    }
    announced: dict[int, list[AnnouncementFact]] = {}
    session.flush()  # what the connection reads below: the session's changes too
    connection = session.connection()
    for chunk in in_chunks(ids):
        for fact, statement in _fact_statements(chunk):
            of_kind = found[fact]
            # As plain rows: through the session, each would pass through the ORM's loading,
            # which after an import of 100,000 events took longer than deriving the states.
            for jurisdiction_id, *fields in connection.execute(statement).all():
                of_kind[jurisdiction_id].append(fact(*fields))
        announced |= _announcement_facts(session, chunk)
    votes, letters, responses = found.values()
    return {i: (votes[i], letters[i], responses[i], announced.get(i, [])) for i in ids}


def _load_facts(
    session: Session, ids: list[int], on: date
) -> tuple[dict[int, CampaignState], dict[int, date | None]]:
    """Each jurisdiction's state as of `on`, derived from its events and the announcements
    in its scope, and when its campaign first opposed activation (status.opposed_on)."""
    facts = facts_of_many(session, ids)
    states = {i: derive_status(*facts[i], on) for i in ids}
    return states, {i: opposed_on(facts[i][0], facts[i][1]) for i in ids}


@dataclass(frozen=True)
class _Place:
    state_level: bool
    state: str
    activated_on: date | None


def _covered(session: Session, jurisdiction_ids: Iterable[int]) -> dict[int, _Place]:
    """These jurisdictions, with what their effective status depends on: a state's counties
    and cities (covered through it) and a county's or city's state (covering it).

    Two queries per 500 ids, then one for the states and their dependents."""
    place = (col(J.id), col(J.kind).in_(STATE_LEVEL), col(J.state), col(J.activated_on))
    asked: dict[int, _Place] = {}
    for chunk in in_chunks(sorted(set(jurisdiction_ids))):
        for i, state_level, state, activated_on in session.execute(
            sa.select(*place).where(col(J.id).in_(chunk))
        ):
            asked[i] = _Place(bool(state_level), state, activated_on)
    states = sorted({p.state for p in asked.values()})
    covering = sorted({p.state for p in asked.values() if p.state_level})
    if not states:
        return asked
    around = sa.or_(col(J.kind).in_(STATE_LEVEL), col(J.state).in_(covering))
    return asked | {
        i: _Place(bool(state_level), state, activated_on)
        for i, state_level, state, activated_on in session.execute(
            sa.select(*place).where(col(J.state).in_(states), around)
        )
    }


def initialize(session: Session, jurisdiction_ids: list[int]) -> None:
    """The `no_action` row every new jurisdiction starts with (no events yet): `refresh`
    then derives it when its state's campaign covers it."""
    now = utcnow()
    if jurisdiction_ids:
        data_version.changed(session)  # an INSERT of many rows, not objects
        session.execute(
            sa.insert(JurisdictionStatus),
            [{"jurisdiction_id": i, "updated_at": now} for i in jurisdiction_ids],
        )


def _stored(
    state: CampaignState,
    activated_on: date | None,
    its_state: tuple[CampaignState, date | None] | None,
    own_opposed_on: date | None,
    on: date,
) -> dict[str, Any]:
    """The row's values: the jurisdiction's own state, the campaign that covers it (its
    own, or `its_state`'s with the date that campaign first opposed activation), and
    whether it was activated despite opting out, against that campaign."""
    effective = effective_status(state, its_state[0] if its_state else None)
    opposed = own_opposed_on
    if its_state is not None and effective.via == EffectiveVia.state:
        opposed = its_state[1]
    # vars, not dataclasses.asdict: its deep copy of every field adds up over thousands
    return {
        **vars(state),
        "notice_complete": state.notice_complete,
        "effective_status": effective.status,
        "effective_status_since": effective.since,
        "effective_status_via": EffectiveVia(effective.via),
        "activated_despite_opt_out": activated_despite_opt_out(activated_on, on, opposed),
        # An activation dated later turns `activated_despite_opt_out` on its day.
        "recompute_on": min(
            (d for d in (state.recompute_on, activated_on) if d and d > on), default=None
        ),
    }


def derive(
    session: Session, jurisdiction_ids: Iterable[int], on: date
) -> dict[int, dict[str, Any]]:
    """The status row values (column: value) as of `on` of these jurisdictions, and of
    those whose coverage they decide (a state's counties and cities), from the facts."""
    places = _covered(session, jurisdiction_ids)
    states, opposed = _load_facts(session, sorted(places), on)
    state_ids = {p.state: i for i, p in places.items() if p.state_level}
    derived = {}
    for jurisdiction_id, state in states.items():
        place = places[jurisdiction_id]
        covering = None if place.state_level else state_ids.get(place.state)
        derived[jurisdiction_id] = _stored(
            state,
            place.activated_on,
            None if covering is None else (states[covering], opposed[covering]),
            opposed[jurisdiction_id],
            on,
        )
    return derived


DEFERRED = "optout.status_deferred"  # session.info key: the ids `deferred` collects


@contextmanager
def deferred(session: Session) -> Iterator[set[int]]:
    """While the block runs, `refresh` only collects the ids it is asked about, into the set
    yielded; the caller refreshes them once, or not at all if it rolls back. An import that
    changes a thousand of a county's events derives its status once, not a thousand times."""
    touched: set[int] = set()
    session.info[DEFERRED] = touched
    try:
        yield touched
    finally:
        del session.info[DEFERRED]


def refresh(session: Session, jurisdiction_ids: Iterable[int]) -> list[StatusChange]:
    """Recompute and store the derived status of these jurisdictions, and the effective
    status of the counties and cities of the states among them; report status changes
    (of the jurisdictions' own status: coverage through the state is no event)."""
    if (touched := session.info.get(DEFERRED)) is not None:
        touched.update(jurisdiction_ids)
        return []
    session.flush()  # the events of this transaction must be visible to the queries below
    derived = derive(session, jurisdiction_ids, today())
    rows = {
        row.jurisdiction_id: row
        for chunk in in_chunks(derived)
        for row in session.scalars(
            sa.select(JurisdictionStatus).where(col(JurisdictionStatus.jurisdiction_id).in_(chunk))
        )
    }
    changes = []
    alerts = []
    for jurisdiction_id, values in derived.items():
        new, new_effective = values["status"], values["effective_status"]
        row = rows.get(jurisdiction_id)
        if row is None:
            row = JurisdictionStatus(jurisdiction_id=jurisdiction_id, **values)
            session.add(row)
            old = old_effective = CampaignStatus.no_action
        else:
            old, old_effective = row.status, row.effective_status
            if all(getattr(row, k) == v for k, v in values.items()):
                continue
            for key, value in values.items():
                setattr(row, key, value)
            row.revision += 1
            row.updated_at = utcnow()
        revision = row.revision or 1
        if old != new:
            changes.append(StatusChange(jurisdiction_id, old, new))
            outbox.publish_status_change(session, jurisdiction_id, old, new)
            alerts.append(mail.StatusAlert(jurisdiction_id, old, new, revision, own=True))
        elif old_effective != new_effective:  # covered by its state, whose campaign moved
            alerts.append(
                mail.StatusAlert(jurisdiction_id, old_effective, new_effective, revision, own=False)
            )
    session.flush()
    mail.status_changed(session, alerts)
    return changes


def refresh_scopes(session: Session, scopes: set[str]) -> list[StatusChange]:
    """Derive again the status of every jurisdiction announcements of these scopes speak to
    (`national`: all; else the states named), in one query for the ids."""
    where = sa.true() if NATIONAL in scopes else col(Jurisdiction.state).in_(scopes)
    return refresh(session, session.scalars(sa.select(col(Jurisdiction.id)).where(where)))


def refresh_all(session: Session) -> list[StatusChange]:
    """Derive every jurisdiction's status again. The stored rows hold what the rules of the
    release that wrote them said; after an upgrade the rules may say otherwise (a letter to
    DHS became ICE notice), so each start and `db upgrade` runs this: it writes only the rows
    whose values differ, and reports their status changes like any other."""
    return refresh(session, session.scalars(sa.select(col(Jurisdiction.id))))


def refresh_due(session: Session) -> list[StatusChange]:
    """Derive again the rows whose `recompute_on` has come (an upcoming event's date is
    today or past), so that the stored answer is today's again; report status changes."""
    due = (
        sa.select(col(JurisdictionStatus.jurisdiction_id))
        .where(col(JurisdictionStatus.recompute_on) <= today())
        .order_by(col(JurisdictionStatus.jurisdiction_id))
        # On PostgreSQL a second process doing the same waits here, then finds the rows
        # no longer due: each change is written, and announced, once. (SQLite: the writer
        # lock serialises.)
        .with_for_update()
    )
    ids = list(session.scalars(due))
    return refresh(session, ids) if ids else []


# The last day this process ran refresh_due: the calendar changes answers only from one day
# to the next, so once a day is enough.
_checked_on: date | None = None
_checking = threading.Lock()
# After a refresh the database refused (busy), when the next may try (time.monotonic).
_retry_at = 0.0
RETRY_SECONDS = 30


def keep_current(engine: Engine) -> None:
    """refresh_due, in a short transaction of its own, the first time a process asks on a
    given day (afterwards it costs nothing): called before each request's unit of work
    opens, so that the request reads today's answers, and by the webhook worker, so that a
    change the calendar made is announced even when no one reads it.

    When the database is too busy to write (on SQLite, another process's import holding the
    lock past the busy timeout), the request reads the statuses as they are, and no request
    tries again for RETRY_SECONDS: else each would wait the busy timeout out in turn.
    """
    global _checked_on, _retry_at
    with _checking:  # the process's other requests wait for today's answers
        on = today()
        if _checked_on == on or monotonic() < _retry_at:
            return
        try:
            with unit_of_work(engine) as session:
                refresh_due(session)
        except sa.exc.OperationalError as exc:
            _retry_at = monotonic() + RETRY_SECONDS
            log.warning("today's statuses not derived yet, the database is busy: %s", exc.orig)
            return
        _checked_on = on


def overdue_condition(status: sa.Table, on: date) -> sa.ColumnElement[bool]:
    """SQL for the derived `overdue` flag of the statuses in `status` (this table, or one
    shaped like it), which are as of `on`."""
    due = status.c.next_response_due_on
    return sa.and_(due.is_not(None), due < on)
