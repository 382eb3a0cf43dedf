"""/api/v1/export/{kind}.csv: the lists as CSV, with the same filters, streamed."""

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session

from .. import csv_io
from ..enums import Access
from ..schemas import (
    AgencyFilters,
    AgencyPublic,
    JurisdictionFilters,
    JurisdictionPublic,
    LetterFilters,
    LetterPublic,
    ResponseFilters,
    ResponsePublic,
    VoteFilters,
    VotePublic,
)
from ..security import Principal
from ..services import agencies, jurisdictions, letters, responses, votes
from .auth import PrincipalDep
from .deps import StreamingSessionDep

router = APIRouter(prefix="/export", tags=["export"])
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV, one row per record."}
}


def _csv(
    session: Session,
    principal: Principal,
    name: str,
    model: type[BaseModel],
    statement: sa.Select[*tuple[Any, ...]],
    to_record: Any,
) -> StreamingResponse:
    header = csv_io.columns(model, private=principal.can(Access.read))
    body = csv_io.stream(session, statement, to_record, header)
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/jurisdictions.csv", response_class=StreamingResponse, responses=CSV)
def export_jurisdictions(
    session: StreamingSessionDep,
    principal: PrincipalDep,
    params: Annotated[JurisdictionFilters, Query()],
) -> StreamingResponse:
    """Jurisdictions with their campaign status as CSV; the list's filters, all pages."""
    return _csv(
        session, principal, "jurisdictions", JurisdictionPublic, jurisdictions.ordered(params),
        lambda row: jurisdictions.to_public(row[0], row[1]),
    )  # fmt: skip


@router.get("/agencies.csv", response_class=StreamingResponse, responses=CSV)
def export_agencies(
    session: StreamingSessionDep, principal: PrincipalDep, params: Annotated[AgencyFilters, Query()]
) -> StreamingResponse:
    """Agencies as CSV; the list's filters, all pages."""
    statement = agencies.LISTING.ordered(params)
    return _csv(
        session,
        principal,
        "agencies",
        AgencyPublic,
        statement,
        lambda row: AgencyPublic.model_validate(row[0]),
    )


@router.get("/votes.csv", response_class=StreamingResponse, responses=CSV)
def export_votes(
    session: StreamingSessionDep, principal: PrincipalDep, params: Annotated[VoteFilters, Query()]
) -> StreamingResponse:
    """Votes as CSV; the list's filters, all pages."""
    statement = votes.LISTING.ordered(params)
    return _csv(
        session,
        principal,
        "votes",
        VotePublic,
        statement,
        lambda row: VotePublic.model_validate(row[0]),
    )


@router.get("/letters.csv", response_class=StreamingResponse, responses=CSV)
def export_letters(
    session: StreamingSessionDep, principal: PrincipalDep, params: Annotated[LetterFilters, Query()]
) -> StreamingResponse:
    """Letters as CSV; the list's filters, all pages."""
    statement = letters.LISTING.ordered(params)
    return _csv(
        session,
        principal,
        "letters",
        LetterPublic,
        statement,
        lambda row: LetterPublic.model_validate(row[0]),
    )


@router.get("/responses.csv", response_class=StreamingResponse, responses=CSV)
def export_responses(
    session: StreamingSessionDep,
    principal: PrincipalDep,
    params: Annotated[ResponseFilters, Query()],
) -> StreamingResponse:
    """Responses as CSV; the list's filters, all pages."""
    statement = responses.LISTING.ordered(params)
    return _csv(
        session,
        principal,
        "responses",
        ResponsePublic,
        statement,
        lambda row: ResponsePublic.model_validate(row[0]),
    )
