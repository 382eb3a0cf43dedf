"""Loads the shipped reference data: jurisdictions and agencies. Idempotent, and it never
overwrites a record that exists, so what users edited stays edited."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from .db_types import utcnow
from .enums import STATE_LEVEL, AgencyKind, JurisdictionKind
from .models import Agency, Jurisdiction
from .refdata import RefJurisdiction, reference_jurisdictions
from .services import status_projection

PLACEHOLDER_NOTE = (
    "Placeholder name from the reference data: replace it with the bureau's real name and contacts."
)
ICE_NOTE = "U.S. Immigration and Customs Enforcement, Secure Communities program office."
NATIONAL_AGENCIES = (
    (AgencyKind.ice, "ICE Secure Communities", ICE_NOTE),
    (AgencyKind.dhs, "U.S. Department of Homeland Security", None),
)


@dataclass
class SeedReport:
    jurisdictions: int = 0
    agencies: int = 0

    def __str__(self) -> str:
        return f"added {self.jurisdictions} jurisdictions and {self.agencies} agencies"


def seed(session: Session) -> SeedReport:
    report = SeedReport()
    refs = reference_jurisdictions()
    state_level = [r for r in refs if JurisdictionKind(r.kind) in STATE_LEVEL]
    report.jurisdictions += _insert_missing(session, state_level)
    report.jurisdictions += _insert_missing(session, [r for r in refs if r not in state_level])
    report.agencies += _insert_agencies(session, state_level)
    session.flush()
    return report


def is_seeded(session: Session) -> bool:
    return session.scalar(sa.select(sa.func.count()).select_from(Jurisdiction)) != 0


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


def _insert_agencies(session: Session, state_level: list[RefJurisdiction]) -> int:
    have_sib = set(
        session.scalars(
            sa.select(col(Agency.state)).where(
                col(Agency.kind) == AgencyKind.state_identification_bureau
            )
        )
    )
    have_kinds = set(session.scalars(sa.select(col(Agency.kind))))
    new = [
        Agency(
            name=f"{r.name} State Identification Bureau",
            kind=AgencyKind.state_identification_bureau,
            state=r.state,
            notes=PLACEHOLDER_NOTE,
        )
        for r in state_level
        if JurisdictionKind(r.kind) is not JurisdictionKind.territory and r.state not in have_sib
    ]
    new += [
        Agency(name=name, kind=kind, notes=notes)
        for kind, name, notes in NATIONAL_AGENCIES
        if kind not in have_kinds
    ]
    session.add_all(new)
    return len(new)
