"""Plain factory functions with domain-true defaults."""

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from optout_tracker.enums import (
    AgencyKind,
    AnnouncementEffect,
    LetterPurpose,
    ResponseKind,
    VoteOutcome,
)
from optout_tracker.models import (
    Agency,
    Announcement,
    Jurisdiction,
    Letter,
    Response,
    Vote,
    Webhook,
    WebhookDelivery,
)
from optout_tracker.schemas import WebhookCreate
from optout_tracker.security import CLI
from optout_tracker.services import status_projection, webhooks


def jurisdiction(session: Session, fips: str = "06085") -> Jurisdiction:
    """A seeded jurisdiction by FIPS (Santa Clara County by default)."""
    found = session.scalars(sa.select(Jurisdiction).where(col(Jurisdiction.fips) == fips)).one()
    return found


def agency(session: Session, kind: AgencyKind = AgencyKind.ice, state: str | None = None) -> Agency:
    stmt = sa.select(Agency).where(col(Agency.kind) == kind)
    if state:
        stmt = stmt.where(col(Agency.state) == state)
    return session.scalars(stmt).first() or _add(
        session, Agency(name="ICE", kind=kind, state=state)
    )


def vote(session: Session, j: Jurisdiction, **fields: Any) -> Vote:
    values: dict[str, Any] = {
        "body": "Board of Supervisors",
        "held_on": date(2010, 9, 28),
        "measure": "Request to opt out of Secure Communities",
        "outcome": VoteOutcome.passed,
        "yes": 5,
        "no": 0,
    }
    return _event(session, j, Vote(jurisdiction_id=_id(j), **{**values, **fields}))


def letter(session: Session, j: Jurisdiction, to: Agency, **fields: Any) -> Letter:
    sent_on = fields.pop("sent_on", date(2010, 10, 7))
    values: dict[str, Any] = {
        "purpose": LetterPurpose.opt_out_request,
        "signed_by": "County Executive",
        "response_due_on": sent_on + timedelta(days=30),
    }
    return _event(
        session,
        j,
        Letter(jurisdiction_id=_id(j), agency_id=_id(to), sent_on=sent_on, **{**values, **fields}),
    )


def response(session: Session, j: Jurisdiction, sender: Agency, **fields: Any) -> Response:
    values: dict[str, Any] = {"received_on": date(2011, 3, 1), "kind": ResponseKind.denied}
    return _event(
        session, j, Response(jurisdiction_id=_id(j), agency_id=_id(sender), **{**values, **fields})
    )


def announcement(session: Session, said_by: Agency, **fields: Any) -> Announcement:
    """ICE's letter of Aug 5, 2011 to every state, by default."""
    values: dict[str, Any] = {
        "announced_on": date(2011, 8, 5),
        "scope": "national",
        "effect": AnnouncementEffect.opt_out_denied,
        "title": "Participation in Secure Communities is mandatory",
        "source_url": "https://www.ice.gov/secure-communities",
    }
    return _add(session, Announcement(agency_id=_id(said_by), **{**values, **fields}))


def activate(session: Session, j: Jurisdiction, on: date) -> Jurisdiction:
    """Set the deployment plan's activation date as the loader does, status included."""
    j.activated_on = on
    status_projection.refresh(session, [_id(j)])
    return j


def _id(record: Jurisdiction | Agency) -> int:
    assert record.id is not None
    return record.id


def _add(session: Session, record: Any) -> Any:
    session.add(record)
    session.flush()
    return record


def _event(session: Session, j: Jurisdiction, record: Any) -> Any:
    _add(session, record)
    status_projection.refresh(session, [j.id or 0])
    return record


def webhook(
    session: Session, url: str = "https://coalition.example.org/hooks/optout", **fields: Any
) -> Webhook:
    """A subscription (to every event unless `events` says otherwise), committed: events are
    matched against subscriptions at commit."""
    created = webhooks.create(session, WebhookCreate(url=url, **fields), CLI)
    session.commit()
    return created


def deliveries(session: Session) -> list[WebhookDelivery]:
    """Every delivery in the outbox, oldest first, as stored now."""
    session.expire_all()
    return list(session.scalars(sa.select(WebhookDelivery).order_by(col(WebhookDelivery.id))))
