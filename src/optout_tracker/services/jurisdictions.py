"""Jurisdictions with their derived campaign status."""

from collections.abc import Collection
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import data_version
from ..clock import today
from ..enums import STATE_LEVEL, CampaignStatus, JurisdictionKind
from ..errors import Conflict, FieldError, InvalidInput, NotFound, english
from ..i18n import Sentence
from ..models import Jurisdiction, JurisdictionStatus, Letter, Response, Vote
from ..refdata import reference_jurisdictions
from ..schemas import (
    FIPS_LENGTHS,
    JURISDICTION_SORTS,
    JURISDICTIONS,
    JurisdictionCreate,
    JurisdictionFilters,
    JurisdictionPublic,
    JurisdictionUpdate,
)
from ..security import Principal
from ..slugs import slugify
from . import public, records, status_as_of, status_projection
from .listing import contains, equality_filters, fetch_page, order_by, range_filters
from .records import columns_of
from .status_projection import overdue_condition

J, S = Jurisdiction, JurisdictionStatus
KIND = JURISDICTIONS


def columns(status: sa.Table) -> dict[str, Any]:
    """What lists filter by: the jurisdiction's columns and those of `status` (the stored
    statuses, or another day's: status_as_of.status_table)."""
    return {**columns_of(Jurisdiction), **{c.name: c for c in status.c if c.name != "updated_at"}}


def sortable(status: sa.Table) -> dict[str, Any]:
    by = columns(status)
    # Sorting by status follows the campaign's order of stages, not the alphabet.
    return {k: by[k] for k in JURISDICTION_SORTS} | {
        name: sa.case({s.value: s.rank for s in CampaignStatus}, value=by[name])
        for name in ("status", "effective_status")
    }


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


def select_with(status: sa.Table) -> sa.Select[Any]:
    """Jurisdictions with the columns of their status in `status` (public.status_of_row
    makes them a row again): what lists and exports read, whatever the day."""
    return sa.select(J, *status.c).join(status, status.c.jurisdiction_id == J.id)


def read(
    session: Session, jurisdiction_id: int, on: date | None
) -> tuple[Jurisdiction, JurisdictionStatus, str]:
    """The jurisdiction, its status as of `on` (None: today's, stored) and the ETag of that
    answer: another day's changes with any record (the data version), not the row."""
    j, s = get(session, jurisdiction_id)
    if status_as_of.is_stored(on):
        return j, s, etag(j, s)
    assert on is not None
    tag = f"jurisdiction-{j.id}-v{j.version}-{on.isoformat()}-d{data_version.current(session):x}"
    return j, status_as_of.status_of(session, jurisdiction_id, on), tag


def get(session: Session, jurisdiction_id: int) -> tuple[Jurisdiction, JurisdictionStatus]:
    row = session.execute(select_with_status().where(col(J.id) == jurisdiction_id)).first()
    if row is None:
        raise NotFound(Sentence("no jurisdiction with id {id}", id=str(jurisdiction_id)))
    return row[0], row[1]


def get_by_key(session: Session, key: str) -> tuple[Jurisdiction, JurisdictionStatus]:
    """By slug, or by FIPS code (digits only: no slug is all digits), as map links use."""
    if key.isdigit():
        row = session.execute(select_with_status().where(col(J.fips) == key)).first()
        if row is None:
            raise NotFound(Sentence("no jurisdiction with FIPS code {fips}", fips=key))
        return row[0], row[1]
    return get_by_slug(session, key)


def get_by_slug(session: Session, slug: str) -> tuple[Jurisdiction, JurisdictionStatus]:
    row = session.execute(select_with_status().where(col(J.slug) == slug)).first()
    if row is None:
        raise NotFound(Sentence("no jurisdiction with slug {slug}", slug=repr(slug)))
    return row[0], row[1]


def conditions(params: JurisdictionFilters, status: sa.Table, on: date) -> list[Any]:
    """SQL conditions for the list filters (shared by the list and exports), on the
    statuses in `status`, which are as of `on`."""
    by = columns(status)
    conds = equality_filters(params, by, EQUAL)
    conds += range_filters(params, by)
    if params.q:
        conds.append(contains(J.name, params.q))
    if params.overdue is not None:
        overdue = overdue_condition(status, on)
        conds.append(overdue if params.overdue else sa.not_(overdue))
    for flag in ("awaiting_response", "notice_complete"):
        if (wanted := getattr(params, flag)) is not None:
            conds.append(by[flag] == wanted)
    if params.activated is not None:
        activated = sa.and_(col(J.activated_on).is_not(None), col(J.activated_on) <= on)
        conds.append(activated if params.activated else sa.not_(activated))
    if params.updated_since is not None:
        since = params.updated_since
        conds.append(sa.or_(col(J.updated_at) >= since, status.c.updated_at >= since))
    return conds


def _matching(session: Session, params: JurisdictionFilters) -> tuple[sa.Select[Any], sa.Table]:
    """The jurisdictions matching the list's filters, with their status as of
    `params.as_of`, and the table that status is read from."""
    status = status_as_of.status_table(session, params.as_of)
    on = params.as_of or today()
    return select_with(status).where(*conditions(params, status, on)), status


def ordered(session: Session, params: JurisdictionFilters) -> sa.Select[Any]:
    """Every matching jurisdiction in the list's order (for exports)."""
    matching, status = _matching(session, params)
    return matching.order_by(*order_by(params.sort, sortable(status), "name", J.id))


def list_(session: Session, params: JurisdictionFilters) -> tuple[list[JurisdictionPublic], int]:
    matching, status = _matching(session, params)
    rows, total = fetch_page(
        session,
        matching,
        params,
        sort_columns=sortable(status),
        default_sort="name",
        tiebreak=J.id,
    )
    on = params.as_of or today()
    return [public.jurisdiction(row[0], public.status_of_row(row), on) for row in rows], total


# Writing


def check(session: Session, j: Jurisdiction | JurisdictionCreate) -> None:
    """The rules a jurisdiction must meet after any change (a row, or a new one's body)."""
    own_id = getattr(j, "id", None)  # none yet for a new one
    errors = []
    if j.fips and len(j.fips) not in FIPS_LENGTHS[j.kind]:
        digits = " or ".join(str(n) for n in sorted(FIPS_LENGTHS[j.kind]))
        digit_fips = Sentence(
            "a {kind} has a {digits}-digit FIPS code", kind=str(j.kind), digits=digits
        )
        errors.append(FieldError("fips", digit_fips))
    errors += _in_its_state(session, j)
    if j.parent_id is not None:
        parent = records.reference(session, Jurisdiction, j.parent_id, "parent_id")
        if own_id is not None and own_id in (parent.id, parent.parent_id):
            errors.append(FieldError("parent_id", Sentence("would make a cycle")))
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
                f"{clash.name} already has {field} {value}",
                [FieldError(field, Sentence("already taken"))],
            )
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {english(e.message)}" for e in errors), errors)


def _in_its_state(session: Session, j: Jurisdiction | JurisdictionCreate) -> list[FieldError]:
    """A county's or city's FIPS code begins with its state's, and its OCD id names it."""
    state = None if j.kind in STATE_LEVEL else state_jurisdiction(session, j.state)
    if state is None or state.kind is not JurisdictionKind.state or not state.fips:
        return []
    errors = []
    if j.fips and not j.fips.startswith(state.fips):
        begins = Sentence(
            "a FIPS code in {state} begins with {prefix}", state=state.name, prefix=state.fips
        )
        errors.append(FieldError("fips", begins))
    ocd_prefix = f"{state.ocd_id}/"
    if j.ocd_id and state.ocd_id and not j.ocd_id.startswith(ocd_prefix):
        begins = Sentence(
            "an OCD id in {state} begins with {prefix}", state=state.name, prefix=ocd_prefix
        )
        errors.append(FieldError("ocd_id", begins))
    return errors


def state_choices(
    kinds: Collection[JurisdictionKind] = STATE_LEVEL,
) -> list[tuple[str, str]]:
    """(USPS code, name) of the reference data's states (and DC and territories, by
    default), by name: a form's choice of state."""
    return [(r.state, r.name) for r in sorted(reference_jurisdictions(), key=lambda r: r.name)
            if r.kind in kinds]  # fmt: skip


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
