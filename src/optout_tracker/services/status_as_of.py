"""Statuses as of any day: today's stored, another day's derived from the facts.

Today's statuses are stored in jurisdiction_status (status_projection keeps them). Another
day's are derived from the facts (status_projection.derive) and kept per data version
(data_version.py) and day: the past changes only when the data does. Reads that filter,
sort and count in SQL find another day's statuses in a temporary table shaped like
jurisdiction_status, so that every list, export, count and map reads one way whatever the day.
"""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import data_version
from ..clock import today
from ..models import Jurisdiction, JurisdictionStatus
from . import status_projection

J, S = Jurisdiction, JurisdictionStatus
STORED: sa.Table = S.__table__  # type: ignore[attr-defined]

# Another day's statuses, one temporary table per database connection: the same columns as
# jurisdiction_status (without their CHECKs), refilled for each day asked.
AS_OF = sa.Table(
    "jurisdiction_status_as_of",
    sa.MetaData(),
    *(
        sa.Column(
            c.name,
            c.type.adapt(sa.Enum, create_constraint=False)
            if isinstance(c.type, sa.Enum)
            else c.type,
            primary_key=c.primary_key,
        )
        for c in STORED.c
    ),
    prefixes=["TEMPORARY"],
)


def is_stored(on: date | None) -> bool:
    """Whether the statuses of this day are the stored ones (today's; None means today)."""
    return on is None or on == today()


# Every jurisdiction's derived values of the data version, by day: a day of 3,000 rows is
# about a megabyte, and a reader stepping through the rollout asks for a few dozen days.
_derived: data_version.Kept[date, dict[int, dict[str, Any]]] = data_version.Kept(most=32)


def all_derived(
    session: Session, on: date, version: int | None = None
) -> dict[int, dict[str, Any]]:
    """Every jurisdiction's derived status values as of `on`, derived once per data version
    (the caller's `version`, when it just read it)."""
    version = data_version.current(session) if version is None else version
    if (found := _derived.get(version, on)) is not None:
        return found
    ids = [i for i in session.scalars(sa.select(col(J.id))) if i is not None]
    derived = status_projection.derive(session, ids, on)
    _derived.put(version, on, derived)
    return derived


def status_of(session: Session, jurisdiction_id: int, on: date) -> JurisdictionStatus:
    """One jurisdiction's status as of `on`, a row not in the session (nothing stores it)."""
    values = status_projection.derive(session, [jurisdiction_id], on)[jurisdiction_id]
    return JurisdictionStatus(jurisdiction_id=jurisdiction_id, **values)


def status_table(session: Session, on: date | None) -> sa.Table:
    """The table holding the statuses as of `on`: the stored one for today, else the
    temporary one, filled with that day's (once per transaction and day)."""
    if is_stored(on):
        return STORED
    assert on is not None
    key = (on, data_version.current(session))
    if session.info.get(AS_OF.name) != key:
        rows = [
            {"jurisdiction_id": i, **values}
            for i, values in all_derived(session, on, key[1]).items()
        ]
        session.execute(sa.schema.CreateTable(AS_OF, if_not_exists=True))
        session.execute(sa.delete(AS_OF))
        if rows:
            session.execute(sa.insert(AS_OF), rows)
        session.info[AS_OF.name] = key
    return AS_OF
