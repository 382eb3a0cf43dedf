"""What each CSV export reads: the list's statement and how a row becomes its record."""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from ..schemas import BY_PLURAL, ListParams
from . import public
from .kinds import AGGREGATES

Export = tuple[type[BaseModel], sa.Select[*tuple[Any, ...]], Callable[[Any], BaseModel]]


def export(kind: str, params: ListParams) -> Export:
    """The model, the ordered statement and the row conversion of one kind's export."""
    return BY_PLURAL[kind].public, AGGREGATES[kind].ordered(params), public.of_row


def everything(kind: str) -> Export:
    """All records of a kind, in the list's default order."""
    return export(kind, BY_PLURAL[kind].filters())
