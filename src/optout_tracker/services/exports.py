"""What each CSV export reads: the list's statement and how a row becomes its record."""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from ..schemas import (
    AgencyFilters,
    AgencyPublic,
    JurisdictionFilters,
    JurisdictionPublic,
    LetterFilters,
    LetterPublic,
    ListParams,
    ResponseFilters,
    ResponsePublic,
    VoteFilters,
    VotePublic,
)
from . import agencies, jurisdictions, letters, public, records, responses, votes

Export = tuple[type[BaseModel], sa.Select[*tuple[Any, ...]], Callable[[Any], BaseModel]]


def export(kind: str, params: ListParams) -> Export:
    """The model, the ordered statement and the row conversion of one kind's export."""
    if kind == "jurisdictions":
        assert isinstance(params, JurisdictionFilters)
        return (
            JurisdictionPublic,
            jurisdictions.ordered(params),
            lambda row: public.jurisdiction(row[0], row[1]),
        )
    listing, shape = RECORDS[kind]
    return shape, listing.ordered(params), lambda row: shape.model_validate(row[0])


RECORDS: dict[str, tuple[records.Listing, type[BaseModel]]] = {
    "agencies": (agencies.LISTING, AgencyPublic),
    "votes": (votes.LISTING, VotePublic),
    "letters": (letters.LISTING, LetterPublic),
    "responses": (responses.LISTING, ResponsePublic),
}


FILTERS: dict[str, type[ListParams]] = {
    "jurisdictions": JurisdictionFilters,
    "agencies": AgencyFilters,
    "votes": VoteFilters,
    "letters": LetterFilters,
    "responses": ResponseFilters,
}


def everything(kind: str) -> Export:
    """All records of a kind, in the list's default order."""
    return export(kind, FILTERS[kind]())
