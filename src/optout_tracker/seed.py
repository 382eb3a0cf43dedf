"""Loads the shipped reference data: jurisdictions and agencies. Idempotent, and it never
overwrites what users created or edited."""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from . import data_version
from .db_types import utcnow
from .enums import STATE_LEVEL, AgencyKind, JurisdictionKind
from .models import Agency, AuditEntry, Jurisdiction
from .refdata import RefAgency, RefJurisdiction, reference_agencies, reference_jurisdictions
from .schemas import AGENCIES
from .services import agencies, status_projection

# Notes earlier releases wrote on the agencies they added: the loader replaces them (and only
# them) with the shipped note, keeping every other line, e.g. those the demo dataset adds.
RETIRED_NOTES = frozenset(
    {
        "Placeholder name from the reference data: replace it with the bureau's real name and "
        "contacts.",
        "U.S. Immigration and Customs Enforcement, Secure Communities program office.",
    }
)


@dataclass
class SeedReport:
    jurisdictions: int = 0
    agencies: int = 0
    agencies_filled_in: int = 0

    def __str__(self) -> str:
        added = f"added {self.jurisdictions} jurisdictions and {self.agencies} agencies"
        return added + (f", filled in {self.agencies_filled_in}" if self.agencies_filled_in else "")

    def __bool__(self) -> bool:
        """Whether the load changed anything."""
        return bool(self.jurisdictions or self.agencies or self.agencies_filled_in)


def seed(session: Session) -> SeedReport:
    report = SeedReport()
    refs = reference_jurisdictions()
    state_level = [r for r in refs if JurisdictionKind(r.kind) in STATE_LEVEL]
    report.jurisdictions += _insert_missing(session, state_level)
    report.jurisdictions += _insert_missing(session, [r for r in refs if r not in state_level])
    report.agencies, report.agencies_filled_in = _load_agencies(session)
    if report:  # the jurisdictions are inserted many at once, not as objects
        data_version.changed(session)
    session.flush()
    return report


def _insert_missing(session: Session, refs: list[RefJurisdiction]) -> int:
    taken = session.execute(
        sa.select(col(Jurisdiction.fips), col(Jurisdiction.slug), col(Jurisdiction.ocd_id))
    ).all()
    taken_keys = {k for row in taken for k in row if k}
    new = [r for r in refs if not {r.fips, r.slug, r.ocd_id} & taken_keys]
    if not new:
        return 0
    parents: dict[str, int] = dict(
        session.execute(
            sa.select(col(Jurisdiction.state), col(Jurisdiction.id)).where(
                col(Jurisdiction.kind).in_(STATE_LEVEL)
            )
        ).all()
    )
    now = utcnow()
    rows = [
        {
            "name": r.name,
            "kind": JurisdictionKind(r.kind),
            "slug": r.slug,
            "state": r.state,
            "fips": r.fips,
            "ocd_id": r.ocd_id,
            "parent_id": None if JurisdictionKind(r.kind) in STATE_LEVEL else parents.get(r.state),
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for r in new
    ]
    ids = [
        i
        for i in session.scalars(sa.insert(Jurisdiction).returning(col(Jurisdiction.id)), rows)
        if i
    ]
    status_projection.initialize(session, ids)
    return len(ids)


def _load_agencies(session: Session) -> tuple[int, int]:
    """Add the shipped agencies that are missing, and fill the shipped names and contacts into
    the rows that are still as the loader left them, e.g. the placeholder bureaus ("California
    State Identification Bureau") of before the shipped directory. Returns (added, filled in).

    "As the loader left it" means version 1 and no audit entry. Every change a person makes
    (API, page, CSV import, restore) is audited and bumps the version; the loader audits none
    of its writes. The version alone cannot tell, since a row a person created is at version
    1 too, nor the log alone, for a change made by other means. Filling a row in bumps its
    version, so the loader fills a row once: a later release's changes reach only rows added
    since. A shipped row matches the first agency (by id) of its kind, and for a bureau of its
    state, as `services.agencies.state_bureau` does.
    """
    touched = set(
        session.scalars(
            sa.select(col(AuditEntry.entity_id)).where(col(AuditEntry.entity) == AGENCIES.entity)
        )
    )
    found: dict[tuple[AgencyKind, str | None], Agency] = {}
    for agency in session.scalars(sa.select(Agency).order_by(col(Agency.id))):
        found.setdefault(_key(agency.kind, agency.state), agency)
    added = filled_in = 0
    for ref in reference_agencies():
        kind = AgencyKind(ref.kind)
        values = _shipped(ref)
        existing = found.get(_key(kind, ref.state))
        if existing is None:
            session.add(Agency(kind=kind, state=ref.state, **values))
            added += 1
        elif existing.version == 1 and existing.id not in touched:
            values["notes"] = _merged_notes(existing.notes, ref.notes)
            changes = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if changes:  # the UPDATE bumps the version: caches see the new contacts
                existing.sqlmodel_update(changes)
                session.add(existing)
                session.flush()
                if "name" in changes:  # status reasons name the agency
                    agencies.refresh_correspondents(session, existing)
                filled_in += 1
    return added, filled_in


def _merged_notes(current: str | None, shipped: str | None) -> str | None:
    lines = [line for line in (current or "").splitlines() if line not in RETIRED_NOTES]
    if shipped and shipped not in lines:
        lines.insert(0, shipped)
    return "\n".join(lines) or None


def _key(kind: AgencyKind, state: str | None) -> tuple[AgencyKind, str | None]:
    return kind, state if kind is AgencyKind.state_identification_bureau else None


def _shipped(ref: RefAgency) -> dict[str, Any]:
    """The values the loader owns on its rows: everything but the kind and state they are
    matched by and `response_window_days`, which no source gives (notes: see RETIRED_NOTES)."""
    return {
        "name": ref.name,
        "email": ref.email,
        "fax": ref.fax,
        "postal_address": ref.postal_address,
        "website": ref.website,
        "contact_source_url": ref.contact_source_url,
        "contact_checked_on": ref.contact_checked_on,
        "notes": ref.notes,
    }
