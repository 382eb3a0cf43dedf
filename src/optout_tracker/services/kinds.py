"""What the services do with each kind of record: schemas.KINDS holds the rest of it.

Each kind's service module is named for its plural (services/votes.py) and offers the same
names, so that imports and exports treat every kind alike: adding a kind means its entry in
schemas.KINDS and that module, nothing listed here.
"""

from importlib import import_module
from typing import Any, Protocol, cast

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, SQLModel

from ..schemas import KINDS, RecordKind
from ..security import Principal
from . import records


class Aggregate(Protocol):
    KIND: RecordKind

    def prepare(self, session: Session, data: Any, response_window_days: int) -> BaseModel:
        """A create body as it will be written (derived fields filled in), checked with the
        kind's rules: an AppError if one fails."""
        ...

    def update(self, session: Session, record: Any, data: Any, actor: Principal) -> SQLModel:
        """A PATCH: the changes in `data` checked with the kind's rules and written, with
        their audit entry, webhook event and the statuses they touch refreshed."""
        ...

    def ordered(self, session: Session, params: Any) -> sa.Select[*tuple[Any, ...]]:
        """Every record matching the list's filters, in its order: what an export reads."""
        ...

    def delete(self, session: Session, record: Any, actor: Principal) -> None:
        """The API's DELETE: a Conflict while other records still refer to it."""
        ...


AGGREGATES = {
    kind.plural: cast(Aggregate, import_module(f"{__package__}.{kind.plural}")) for kind in KINDS
}


def create(
    session: Session,
    kind: RecordKind,
    data: BaseModel,
    actor: Principal,
    *,
    response_window_days: int,
) -> SQLModel:
    """A new record of any kind, as the kind's own `create` makes it: checked by its
    `prepare`, then written with what every new record brings (records.insert)."""
    prepared = AGGREGATES[kind.plural].prepare(session, data, response_window_days)
    return records.insert(session, kind.model(**prepared.model_dump()), actor)


def update(
    session: Session, kind: RecordKind, record: SQLModel, data: BaseModel, actor: Principal
) -> SQLModel:
    """A change to a record of any kind, as the API's PATCH makes it (the kind's `update`)."""
    return AGGREGATES[kind.plural].update(session, record, data, actor)


def delete(session: Session, kind: RecordKind, record: SQLModel, actor: Principal) -> None:
    """A record of any kind deleted as the API's DELETE does it (the kind's `delete`)."""
    AGGREGATES[kind.plural].delete(session, record, actor)
