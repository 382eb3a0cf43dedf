"""Records as the API shows them: the one place where rows become their JSON shapes.

The shapes carry private fields; `Record.hide_private` drops them for those who may not see
them (anonymous callers, webhook payloads, feeds).
"""

from datetime import date
from typing import Any

from sqlmodel import Session, SQLModel

from ..clock import today
from ..models import Jurisdiction, JurisdictionStatus
from ..schemas import BY_MODEL, JurisdictionPublic, Record
from ..status import is_activated, is_overdue


def jurisdiction(
    j: Jurisdiction, s: JurisdictionStatus, on: date | None = None
) -> JurisdictionPublic:
    """The jurisdiction's JSON: its fields plus the derived campaign status."""
    on = on or today()
    return JurisdictionPublic.model_validate(
        {
            **j.model_dump(),
            "status": s.status,
            "status_label": s.status.label,
            "status_since": s.status_since,
            "status_reason": str(s.status_reason) if s.status_reason else None,
            "sib_notified": s.sib_notified,
            "ice_notified": s.ice_notified,
            "notice_complete": s.notice_complete,
            "awaiting_response": s.awaiting_response,
            "next_response_due_on": s.next_response_due_on,
            "overdue": is_overdue(s.next_response_due_on, on),
            "activated": is_activated(j.activated_on, on),
            "next_vote_on": s.next_vote_on,
            "campaign_closed_on": s.campaign_closed_on,
            "effective_status": s.effective_status,
            "effective_status_since": s.effective_status_since,
            "effective_status_via": s.effective_status_via,
            "activated_despite_opt_out": s.activated_despite_opt_out,
            "as_of": on,
        }
    )


def of(session: Session, record: SQLModel) -> Record:
    """Any tracked record's JSON shape; a jurisdiction's status is read from the session."""
    if isinstance(record, Jurisdiction):
        status = session.get(JurisdictionStatus, record.id) or JurisdictionStatus(
            jurisdiction_id=record.id or 0
        )
        return jurisdiction(record, status)
    return BY_MODEL[type(record)].public.model_validate(record)


def of_row(row: Any, as_of: date | None = None) -> Record:
    """The record of a list's row (a jurisdiction's comes with the columns of its status as
    of `as_of`: jurisdictions.select_with)."""
    if isinstance(row[0], Jurisdiction):
        return jurisdiction(row[0], status_of_row(row), as_of)
    return BY_MODEL[type(row[0])].public.model_validate(row[0])


def status_of_row(row: Any) -> JurisdictionStatus:
    """The status row read as columns beside its jurisdiction, as a row not in the session."""
    return JurisdictionStatus(**{c.name: row._mapping[c.name] for c in STATUS_COLUMNS})


STATUS_COLUMNS = JurisdictionStatus.__table__.c  # type: ignore[attr-defined]
