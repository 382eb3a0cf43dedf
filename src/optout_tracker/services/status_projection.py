"""Keeps jurisdiction_status in step with the events: the only writer of that table.

Call `refresh` in the same transaction as any change to a jurisdiction's votes, letters or
responses, so that lists can filter and count by status in the database.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from ..clock import today
from ..db import in_chunks
from ..db_types import utcnow
from ..enums import CampaignStatus
from ..models import Agency, Jurisdiction, JurisdictionStatus, Letter, Response, Vote
from ..status import CampaignState, Fact, LetterFact, ResponseFact, VoteFact, derive_status
from . import outbox


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
)
RESPONSE_FACT: tuple[Any, ...] = (
    Response.id,
    Response.received_on,
    Response.kind,
    Agency.name,
    Response.letter_id,
    Response.new_activation_on,
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


def load_states(session: Session, jurisdiction_ids: Iterable[int]) -> dict[int, CampaignState]:
    """Derive the state of each jurisdiction from its events, in three queries per 500."""
    ids = sorted(set(jurisdiction_ids))
    found: dict[type[Fact], dict[int, list[Any]]] = {
        fact: defaultdict(list) for fact in (VoteFact, LetterFact, ResponseFact)
    }
    for chunk in in_chunks(ids):
        for fact, statement in _fact_statements(chunk):
            of_kind = found[fact]
            for jurisdiction_id, *fields in session.execute(statement):
                of_kind[jurisdiction_id].append(fact(*fields))
    votes, letters, responses = found.values()
    return {i: derive_status(votes[i], letters[i], responses[i]) for i in ids}


def initialize(session: Session, jurisdiction_ids: list[int]) -> None:
    """The `no_action` row every new jurisdiction starts with (no events yet, nothing to derive)."""
    now = utcnow()
    if jurisdiction_ids:
        session.execute(
            sa.insert(JurisdictionStatus),
            [{"jurisdiction_id": i, "updated_at": now} for i in jurisdiction_ids],
        )


def refresh(session: Session, jurisdiction_ids: Iterable[int]) -> list[StatusChange]:
    """Recompute and store the derived status of these jurisdictions; report status changes."""
    session.flush()  # the events of this transaction must be visible to the queries below
    states = load_states(session, jurisdiction_ids)
    rows = {
        row.jurisdiction_id: row
        for chunk in in_chunks(states)
        for row in session.scalars(
            sa.select(JurisdictionStatus).where(col(JurisdictionStatus.jurisdiction_id).in_(chunk))
        )
    }
    changes = []
    for jurisdiction_id, state in states.items():
        # vars, not dataclasses.asdict: its deep copy of every field adds up over thousands
        values = {**vars(state), "notice_complete": state.notice_complete}
        row = rows.get(jurisdiction_id)
        if row is None:
            row = JurisdictionStatus(jurisdiction_id=jurisdiction_id, **values)
            session.add(row)
            old = CampaignStatus.no_action
        else:
            old = row.status
            if all(getattr(row, k) == v for k, v in values.items()):
                continue
            for key, value in values.items():
                setattr(row, key, value)
            row.revision += 1
            row.updated_at = utcnow()
        if old != state.status:
            changes.append(StatusChange(jurisdiction_id, old, state.status))
            outbox.publish_status_change(session, jurisdiction_id, old, state.status)
    session.flush()
    return changes


def refresh_all(session: Session) -> list[StatusChange]:
    """Derive every jurisdiction's status again. The stored rows hold what the rules of the
    release that wrote them said; after an upgrade the rules may say otherwise (a letter to
    DHS became ICE notice), so each start and `db upgrade` runs this: it writes only the rows
    whose values differ, and reports their status changes like any other."""
    return refresh(session, session.scalars(sa.select(col(Jurisdiction.id))))


def overdue_condition() -> sa.ColumnElement[bool]:
    """SQL for the derived `overdue` flag, evaluated against today's date."""
    due = col(JurisdictionStatus.next_response_due_on)
    return sa.and_(due.is_not(None), due < today())
