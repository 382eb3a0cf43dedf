"""Filling a benchmark database with many campaign events, as a big import would."""

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from optout_tracker.db_types import utcnow
from optout_tracker.enums import AgencyKind, LetterPurpose, ResponseKind, VoteOutcome
from optout_tracker.models import Agency, Letter, Response, Vote
from optout_tracker.services import status_projection

FIRST_DAY, DAYS = date(2008, 10, 27), 6 * 365  # the Secure Communities years
BATCH = 5_000
# Cycled through so that the statuses vary: notices, answers, votes of every outcome.
OUTCOMES = (VoteOutcome.tabled, VoteOutcome.failed, VoteOutcome.passed)
PURPOSES = (LetterPurpose.other, LetterPurpose.opt_out_request)
KINDS = (ResponseKind.other, ResponseKind.acknowledged)


def crowd(session: Session, jurisdiction_ids: list[int], n: int) -> int:
    """Add n events (a third each votes, letters to ICE and responses answering them),
    dealt in turn to the jurisdictions and spread over the program's years, in batches of
    plain inserts; derive the statuses again. Returns the number of events added."""
    ice = session.scalars(sa.select(Agency).where(col(Agency.kind) == AgencyKind.ice)).first()
    assert ice is not None, "the reference data is missing"
    stamp = {"created_at": utcnow(), "updated_at": utcnow(), "version": 1}
    each = n // 3
    days = [FIRST_DAY + timedelta(days=i * 7 % DAYS) for i in range(each)]
    owners = [jurisdiction_ids[i % len(jurisdiction_ids)] for i in range(each)]
    for start in range(0, each, BATCH):
        rows = list(zip(owners[start : start + BATCH], days[start : start + BATCH], strict=True))
        session.execute(
            sa.insert(Vote),
            [
                {**stamp, "jurisdiction_id": j, "body": "Board of Supervisors", "held_on": d}
                | {"outcome": OUTCOMES[i % len(OUTCOMES)]}
                for i, (j, d) in enumerate(rows)
            ],
        )
        first = (session.scalar(sa.select(sa.func.max(Letter.id))) or 0) + 1
        session.execute(
            sa.insert(Letter),
            [
                {**stamp, "id": first + i, "jurisdiction_id": j, "agency_id": ice.id}
                | {"sent_on": d, "purpose": PURPOSES[i % len(PURPOSES)]}
                | {"response_due_on": d + timedelta(days=30)}
                for i, (j, d) in enumerate(rows)
            ],
        )
        session.execute(
            sa.insert(Response),
            [
                {**stamp, "jurisdiction_id": j, "agency_id": ice.id}
                | {"received_on": d + timedelta(days=7), "kind": KINDS[i % len(KINDS)]}
                | {"letter_id": first + i}
                for i, (j, d) in enumerate(rows)
            ],
        )
    status_projection.refresh(session, sorted(set(owners)))
    return each * 3
