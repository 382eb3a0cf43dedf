"""Requests that must take effect once: the API's Idempotency-Key and the pages' one-time
form tokens both keep their claim and its outcome in the idempotency_key table.

A claim is an INSERT ... ON CONFLICT DO NOTHING in the request's own transaction, so the
outcome commits with the change. A concurrent request with the same key waits for the first
one's transaction on PostgreSQL (SQLite runs one writer at a time anyway) and then sees its
outcome, on both databases alike; if the first one fails, its claim goes with it.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from ..db import insert_or
from ..db_types import utcnow
from ..models import IdempotencyKey

UNANSWERED = 0  # status_code of a claim whose request has not stored an outcome
# How long a key's answer is kept: a client's retries come within minutes, a second tap on a
# form's back page within days. After that the row goes (`forget_old`) and the key is free.
KEPT = timedelta(days=7)


@dataclass(frozen=True)
class Claim:
    id: int  # the row: `remember` stores the outcome in it
    earlier: IdempotencyKey | None  # the row as an earlier request left it; None: a new key


def claim(session: Session, actor: str, key: str, request_hash: str) -> Claim:
    """Take `key` for `actor`, or find the earlier request's row, locked until this
    transaction ends so that two retries of a request that saved nothing cannot both save."""
    claimed = session.scalar(
        insert_or(session, IdempotencyKey)
        .values(
            actor=actor,
            key=key,
            request_hash=request_hash,
            status_code=UNANSWERED,
            response_body="",
        )
        .on_conflict_do_nothing(index_elements=["actor", "key"])
        .returning(col(IdempotencyKey.id))
    )
    if claimed is not None:
        return Claim(claimed, None)
    earlier = session.scalars(
        sa.select(IdempotencyKey)
        .filter_by(actor=actor, key=key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return Claim(earlier.id or 0, earlier)


def remember(
    session: Session,
    claim_id: int,
    status: int,
    body: str,
    location: str | None,
    etag: str | None = None,
) -> None:
    """Store the outcome of the request that holds the claim."""
    session.execute(
        sa.update(IdempotencyKey)
        .where(col(IdempotencyKey.id) == claim_id)
        .values(status_code=status, response_body=body, location=location, etag=etag)
    )


def forget_old(session: Session) -> int:
    """Delete the claims older than KEPT; how many went."""
    cutoff = utcnow() - KEPT
    result = session.execute(
        sa.delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
