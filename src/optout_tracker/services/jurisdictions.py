"""Jurisdictions with their derived campaign status."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import STATE_LEVEL, CampaignStatus
from ..errors import Conflict, FieldError, InvalidInput, NotFound
from ..models import Jurisdiction, JurisdictionStatus, Letter, Response, Vote
from ..schemas import (
    FIPS_LENGTHS,
    JURISDICTIONS,
    JurisdictionCreate,
    JurisdictionFilters,
    JurisdictionPublic,
    JurisdictionUpdate,
)
from ..security import Principal
from ..slugs import slugify
from . import public, records, status_projection
from .listing import contains, equality_filters, fetch_page, order_by, range_filters
from .records import columns_of
from .status_projection import overdue_condition

J, S = Jurisdiction, JurisdictionStatus
KIND = JURISDICTIONS

COLUMNS: dict[str, Any] = {
    **columns_of(Jurisdiction),
    **{c.name: c for c in JurisdictionStatus.__table__.c if c.name != "updated_at"},  # type: ignore[attr-defined]
}
# Sorting by status follows the campaign's order of stages, not the alphabet.
SORTABLE = {
    k: COLUMNS[k]
    for k in (
        "id", "name", "state", "kind", "fips", "slug", "population", "status", "status_since",
        "effective_status", "effective_status_since", "activated_on", "scheduled_activation_on",
        "next_response_due_on", "updated_at", "created_at",
    )
} | {
    name: sa.case({s.value: s.rank for s in CampaignStatus}, value=COLUMNS[name])
    for name in ("status", "effective_status")
}  # fmt: skip


# The list filters that ask for one value of a column.
EQUAL = (
    "state", "kind", "status", "effective_status", "effective_status_via", "fips", "ocd_id",
    "slug", "parent_id", "activated_despite_opt_out",
)  # fmt: skip


def etag(j: Jurisdiction, s: JurisdictionStatus) -> str:
    # The derived part changes without the record's version (a vote is logged), and
    # `overdue`/`activated` turn with the calendar, so all three go in.
    return f"jurisdiction-{j.id}-v{j.version}-s{s.revision}-{today().isoformat()}"


def select_with_status() -> sa.Select[Jurisdiction, JurisdictionStatus]:
    # Every jurisdiction has its status row from the start (status_projection.initialize).
    return sa.select(J, S).join(S, col(S.jurisdiction_id) == J.id)


def get(session: Session, jurisdiction_id: int) -> tuple[Jurisdiction, JurisdictionStatus]:
    row = session.execute(select_with_status().where(col(J.id) == jurisdiction_id)).first()
    if row is None:
        raise NotFound(f"no jurisdiction with id {jurisdiction_id}")
    return row[0], row[1]


def get_by_key(session: Session, key: str) -> tuple[Jurisdiction, JurisdictionStatus]:
    """By slug, or by FIPS code (digits only: no slug is all digits), as map links use."""
    if key.isdigit():
        row = session.execute(select_with_status().where(col(J.fips) == key)).first()
        if row is None:
            raise NotFound(f"no jurisdiction with FIPS code {key}")
        return row[0], row[1]
    return get_by_slug(session, key)


def get_by_slug(session: Session, slug: str) -> tuple[Jurisdiction, JurisdictionStatus]:
    row = session.execute(select_with_status().where(col(J.slug) == slug)).first()
    if row is None:
        raise NotFound(f"no jurisdiction with slug {slug!r}")
    return row[0], row[1]


def conditions(params: JurisdictionFilters) -> list[Any]:
    """SQL conditions for the list filters (shared by the list, exports and the map)."""
    conds = equality_filters(params, COLUMNS, EQUAL)
    conds += range_filters(params, COLUMNS)
    if params.q:
        conds.append(contains(J.name, params.q))
    if params.overdue is not None:
        conds.append(overdue_condition() if params.overdue else sa.not_(overdue_condition()))
    if params.awaiting_response is not None:
        conds.append(col(S.awaiting_response) == params.awaiting_response)
    if params.notice_complete is not None:
        conds.append(col(S.notice_complete) == params.notice_complete)
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


def ordered(params: JurisdictionFilters) -> sa.Select[Jurisdiction, JurisdictionStatus]:
    """Every matching jurisdiction with its status, in the list's order (for exports)."""
    ordering = order_by(params.sort, SORTABLE, "name", J.id)
    return select_with_status().where(*conditions(params)).order_by(*ordering)


def list_(session: Session, params: JurisdictionFilters) -> tuple[list[JurisdictionPublic], int]:
    rows, total = fetch_page(
        session,
        select_with_status().where(*conditions(params)),
        params,
        sort_columns=SORTABLE,
        default_sort="name",
        tiebreak=J.id,
    )
    on = today()
    return [public.jurisdiction(j, s, on) for j, s in rows], total


# Writing


def check(session: Session, j: Jurisdiction | JurisdictionCreate) -> None:
    """The rules a jurisdiction must meet after any change (a row, or a new one's body)."""
    own_id = getattr(j, "id", None)  # none yet for a new one
    errors = []
    if j.fips and len(j.fips) not in FIPS_LENGTHS[j.kind]:
        digits = " or ".join(str(n) for n in sorted(FIPS_LENGTHS[j.kind]))
        errors.append(FieldError("fips", f"a {j.kind} has a {digits}-digit FIPS code"))
    if j.parent_id is not None:
        parent = records.reference(session, Jurisdiction, j.parent_id, "parent_id")
        if own_id is not None and own_id in (parent.id, parent.parent_id):
            errors.append(FieldError("parent_id", "would make a cycle"))
    for field in ("slug", "fips", "ocd_id"):
        value = getattr(j, field)
        clash = (
            value
            and session.scalars(
                sa.select(Jurisdiction).where(
                    getattr(Jurisdiction, field) == value, col(Jurisdiction.id) != own_id
                )
            ).first()
        )
        if clash:
            raise Conflict(
                f"{clash.name} already has {field} {value}", [FieldError(field, "already taken")]
            )
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


def state_jurisdiction(session: Session, code: str) -> Jurisdiction | None:
    """The state (or DC, or territory) with this USPS code."""
    return session.scalars(
        sa.select(Jurisdiction).where(
            col(Jurisdiction.state) == code, col(Jurisdiction.kind).in_(STATE_LEVEL)
        )
    ).first()


def _free_slug(session: Session, base: str) -> str:
    """`base`, or `base-2`, `base-3`, ... whichever is not taken yet."""
    taken = set(
        session.scalars(
            sa.select(col(Jurisdiction.slug)).where(
                sa.or_(col(Jurisdiction.slug) == base, col(Jurisdiction.slug).like(f"{base}-%"))
            )
        )
    )
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def create(session: Session, data: JurisdictionCreate, actor: Principal) -> Jurisdiction:
    return records.insert(session, Jurisdiction(**prepare(session, data).model_dump()), actor)


def prepare(
    session: Session,
    data: JurisdictionCreate,
    response_window_days: int = 0,  # the signature of every kind's; unused here
) -> JurisdictionCreate:
    """A new jurisdiction's body with its slug and parent derived when missing, checked."""
    parent_id, slug = data.parent_id, data.slug
    if data.kind in STATE_LEVEL:
        slug = slug or _free_slug(session, data.state.lower())
    else:
        if parent_id is None and (state := state_jurisdiction(session, data.state)) is not None:
            parent_id = state.id
        slug = slug or _free_slug(session, slugify(f"{data.state} {data.name}"))
    data = data.model_copy(update={"parent_id": parent_id, "slug": slug})
    check(session, data)
    return data


# The fields of a jurisdiction its derived status reads: whose campaign covers it (its kind
# and state) and whether it was activated despite opting out (`activated_on`).
COVERAGE_INPUTS = ("kind", "state", "activated_on")


def update(
    session: Session, j: Jurisdiction, data: JurisdictionUpdate, actor: Principal
) -> Jurisdiction:
    changes = records.changes_of(Jurisdiction, data)
    check(session, Jurisdiction.model_validate({**j.model_dump(), **changes}))
    before = {field: getattr(j, field) for field in COVERAGE_INPUTS}
    records.update(session, j, changes, actor)
    if any(getattr(j, field) != value for field, value in before.items()):
        status_projection.refresh(session, [j.id or 0])
    return j


def delete(session: Session, j: Jurisdiction, actor: Principal) -> None:
    records.refuse_if_used(
        session,
        j.name,
        j.id,
        Vote.jurisdiction_id,
        Letter.jurisdiction_id,
        Response.jurisdiction_id,
        Jurisdiction.parent_id,
    )
    records.delete(session, j, actor)
