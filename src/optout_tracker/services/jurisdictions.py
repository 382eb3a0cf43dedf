"""Jurisdictions with their derived campaign status."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..errors import NotFound
from ..models import Jurisdiction, JurisdictionStatus
from ..schemas import JurisdictionFilters, JurisdictionPublic
from .listing import contains, equality_filters, fetch_page, range_filters
from .records import columns_of
from .status_projection import overdue_condition

J, S = Jurisdiction, JurisdictionStatus

COLUMNS: dict[str, Any] = {
    **columns_of(Jurisdiction),
    **{c.name: c for c in JurisdictionStatus.__table__.c if c.name != "updated_at"},  # type: ignore[attr-defined]
    # A jurisdiction always gets its status row, but a missing one must still read as no_action.
    "status": sa.func.coalesce(S.status, "no_action"),
}
SORTABLE = {
    k: COLUMNS[k]
    for k in (
        "id", "name", "state", "kind", "fips", "slug", "population", "status", "status_since",
        "activated_on", "scheduled_activation_on", "next_response_due_on", "updated_at",
        "created_at",
    )
}  # fmt: skip


def to_public(
    j: Jurisdiction, s: JurisdictionStatus | None, on: date | None = None
) -> JurisdictionPublic:
    """The jurisdiction's public JSON: its fields plus the derived campaign status."""
    on = on or today()
    s = s or JurisdictionStatus(jurisdiction_id=j.id or 0)
    return JurisdictionPublic.model_validate(
        {
            **j.model_dump(exclude={"private_notes"}),
            "status": s.status,
            "status_label": s.status.label,
            "status_since": s.status_since,
            "status_reason": s.status_reason,
            "sib_notified": s.sib_notified,
            "ice_notified": s.ice_notified,
            "notice_complete": s.notice_complete,
            "awaiting_response": s.awaiting_response,
            "next_response_due_on": s.next_response_due_on,
            "overdue": s.next_response_due_on is not None and on > s.next_response_due_on,
            "activated": j.activated_on is not None and j.activated_on <= on,
        }
    )


def etag(j: Jurisdiction, s: JurisdictionStatus | None) -> str:
    # The derived part changes without the record's version (a vote is logged), and
    # `overdue`/`activated` turn with the calendar, so all three go in.
    return f"jurisdiction-{j.id}-v{j.version}-s{s.revision if s else 0}-{today().isoformat()}"


def _select() -> sa.Select[Jurisdiction, JurisdictionStatus]:
    return sa.select(J, S).outerjoin(S, col(S.jurisdiction_id) == J.id)


def get(session: Session, jurisdiction_id: int) -> tuple[Jurisdiction, JurisdictionStatus | None]:
    row = session.execute(_select().where(col(J.id) == jurisdiction_id)).first()
    if row is None:
        raise NotFound(f"no jurisdiction with id {jurisdiction_id}")
    return row[0], row[1]


def get_by_slug(session: Session, slug: str) -> tuple[Jurisdiction, JurisdictionStatus | None]:
    row = session.execute(_select().where(col(J.slug) == slug)).first()
    if row is None:
        raise NotFound(f"no jurisdiction with slug {slug!r}")
    return row[0], row[1]


def conditions(params: JurisdictionFilters) -> list[Any]:
    """SQL conditions for the list filters (shared by the list, exports and the map)."""
    conds = equality_filters(
        params, COLUMNS, ("state", "kind", "status", "fips", "ocd_id", "slug", "parent_id")
    )
    conds += range_filters(params, COLUMNS)
    if params.q:
        conds.append(contains(J.name, params.q))
    if params.overdue is not None:
        conds.append(overdue_condition() if params.overdue else sa.not_(_overdue_or_false()))
    if params.awaiting_response is not None:
        conds.append(sa.func.coalesce(S.awaiting_response, False) == params.awaiting_response)
    if params.notice_complete is not None:
        conds.append(sa.func.coalesce(S.notice_complete, False) == params.notice_complete)
    if params.activated is not None:
        on = col(J.activated_on)
        activated = sa.and_(on.is_not(None), on <= today())
        conds.append(activated if params.activated else sa.not_(activated))
    if params.updated_since is not None:
        conds.append(
            sa.or_(
                col(J.updated_at) >= params.updated_since, col(S.updated_at) >= params.updated_since
            )
        )
    return conds


def list_(session: Session, params: JurisdictionFilters) -> tuple[list[JurisdictionPublic], int]:
    rows, total = fetch_page(
        session,
        _select().where(*conditions(params)),
        params,
        sort_columns=SORTABLE,
        default_sort="name",
        tiebreak=J.id,
    )
    on = today()
    return [to_public(j, s, on) for j, s in rows], total


def _overdue_or_false() -> sa.ColumnElement[bool]:
    return sa.func.coalesce(overdue_condition(), False)
