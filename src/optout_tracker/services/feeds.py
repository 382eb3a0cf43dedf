"""What the Atom feeds and the calendar carry: public changes, and dates ahead."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import sentences
from ..enums import AuditAction, VoteOutcome
from ..i18n import gettext
from ..models import Agency, AuditEntry, Jurisdiction, JurisdictionStatus, Letter, Vote
from ..schemas import ENTITIES, PRIVATE_FIELDS
from ..status import RELATED_MEASURE
from ..wording import words
from . import letter_chains


@dataclass(frozen=True)
class Change:
    id: int
    at: datetime
    title: str
    summary: str
    jurisdiction: Jurisdiction | None


def changes(session: Session, jurisdiction_id: int | None = None, limit: int = 50) -> list[Change]:
    """The latest changes to campaign records, newest first, without private values."""
    stmt = (
        sa.select(AuditEntry, Jurisdiction)
        .outerjoin(Jurisdiction, col(Jurisdiction.id) == AuditEntry.jurisdiction_id)
        .where(col(AuditEntry.entity).in_(ENTITIES), public_changes(session))
        .order_by(col(AuditEntry.id).desc())
        .limit(limit)
    )
    if jurisdiction_id is not None:
        stmt = stmt.where(col(AuditEntry.jurisdiction_id) == jurisdiction_id)
    return described(session, session.execute(stmt).all())


def described(session: Session, found: Sequence[Any]) -> list[Change]:
    """(audit entry, its jurisdiction) pairs as changes in sentences: one query names the
    agencies."""
    named = {v for entry, _ in found for v in entry.changes.get("agency_id", []) if v}
    agencies = _agency_names(session, named)
    return [_change(entry, j, agencies) for entry, j in found]


def _agency_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = sa.select(col(Agency.id), col(Agency.name)).where(col(Agency.id).in_(ids))
    return dict(session.execute(stmt).all())


def public_changes(session: Session) -> sa.ColumnElement[bool]:
    """Not an update of private fields only: the public saw nothing change.

    In SQL, so that a run of private edits cannot crowd the public ones out of the page."""
    changes = col(AuditEntry.changes)
    if session.get_bind().dialect.name == "postgresql":
        key: Any = sa.func.json_object_keys(changes).column_valued("key")
        found = sa.select(key)
    else:
        keys = sa.func.json_each(changes).table_valued("key")
        key, found = keys.c.key, sa.select(keys.c.key)
    public_field = found.where(key.not_in(PRIVATE_FIELDS)).exists()
    return sa.or_(col(AuditEntry.action) != AuditAction.update, public_field)


def _change(entry: AuditEntry, j: Jurisdiction | None, agencies: dict[int, str]) -> Change:
    """The entry in sentences: what happened, and for an update each public field's change."""
    public = {k: v for k, v in entry.changes.items() if k not in PRIVATE_FIELDS}
    place = j.name if j else None  # its link (or the feed entry's) names the state too
    title = sentences.title(entry.entity, entry.action, public, place, agencies)
    changed = sentences.lines(public, agencies) if entry.action is AuditAction.update else []
    return Change(entry.id or 0, entry.created_at, title, " ".join(changed), j)


@dataclass(frozen=True)
class DateAhead:
    uid: str
    on: date
    title: str
    description: str
    jurisdiction: Jurisdiction
    stamp: datetime


def dates_ahead(session: Session, state: str | None = None) -> list[DateAhead]:
    """Scheduled votes, scheduled activations, and when unanswered letters are due."""
    in_state = [col(Jurisdiction.state) == state] if state else []
    items: list[DateAhead] = []
    votes = session.execute(
        sa.select(Vote, Jurisdiction)
        .join(Jurisdiction, col(Jurisdiction.id) == Vote.jurisdiction_id)
        .where(col(Vote.outcome) == VoteOutcome.scheduled, *in_state)
    )
    for vote, j in votes:
        topic = (
            vote.measure
            or RELATED_MEASURE.get(vote.topic)
            or gettext("opting out of Secure Communities")
        )
        items.append(
            DateAhead(
                f"vote-{vote.id}",
                vote.held_on,
                gettext("{place}: {body} votes on {measure}").format(
                    place=j.name, body=vote.body, measure=topic
                ),
                vote.public_notes or "",
                j,
                vote.updated_at,
            )
        )
    activations = session.scalars(
        sa.select(Jurisdiction).where(
            col(Jurisdiction.scheduled_activation_on).is_not(None), *in_state
        )
    )
    for j in activations:
        assert j.scheduled_activation_on is not None
        items.append(
            DateAhead(
                f"activation-{j.id}",
                j.scheduled_activation_on,
                gettext("{place}: Secure Communities activation scheduled").format(place=j.name),
                "",
                j,
                j.updated_at,
            )
        )
    waiting = session.execute(
        sa.select(Letter, Jurisdiction, Agency)
        .join(Jurisdiction, col(Jurisdiction.id) == Letter.jurisdiction_id)
        .join(Agency, col(Agency.id) == Letter.agency_id)
        .join(JurisdictionStatus, col(JurisdictionStatus.jurisdiction_id) == Jurisdiction.id)
        # A closed campaign (the program ended) waits for no answer.
        .where(
            col(Letter.id).not_in(letter_chains.answered_ids()),
            col(JurisdictionStatus.campaign_closed_on).is_(None),
        )
        .where(*in_state)
    )
    for letter, j, agency in waiting:
        items.append(
            DateAhead(
                f"letter-{letter.id}",
                letter.response_due_on,
                gettext("{place}: answer due from {agency}").format(
                    place=j.name, agency=agency.name
                ),
                gettext("Letter of {day}: {purpose}").format(
                    day=letter.sent_on.isoformat(), purpose=words(letter.purpose)
                ),
                j,
                letter.updated_at,
            )
        )
    return sorted(items, key=lambda i: (i.on, i.uid))
