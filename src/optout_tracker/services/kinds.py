"""What the services do with each kind of record: schemas.KINDS holds the rest of it.

Each record kind's module offers the same names, so that imports and exports treat every
kind alike; adding a kind means its entry in schemas.KINDS and its module here.
"""

from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session

from ..schemas import RecordKind
from . import agencies, jurisdictions, letters, responses, votes


class Aggregate(Protocol):
    KIND: RecordKind

    def prepare(self, session: Session, data: Any, response_window_days: int) -> BaseModel:
        """A create body as it will be written (derived fields filled in), checked with the
        kind's rules: an AppError if one fails."""
        ...

    def ordered(self, params: Any) -> sa.Select[*tuple[Any, ...]]:
        """Every record matching the list's filters, in its order: what an export reads."""
        ...


MODULES: tuple[Aggregate, ...] = (jurisdictions, agencies, votes, letters, responses)
AGGREGATES = {m.KIND.plural: m for m in MODULES}  # in the order of schemas.KINDS
