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

    def ordered(self, params: Any) -> sa.Select[*tuple[Any, ...]]:
        """Every record matching the list's filters, in its order: what an export reads."""
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
