"""/api/v1/export/{kind}.csv: the lists as CSV, with the same filters, streamed."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from .. import csv_io
from ..enums import Access
from ..schemas import (
    AgencyFilters,
    JurisdictionFilters,
    LetterFilters,
    ListParams,
    ResponseFilters,
    VoteFilters,
)
from ..security import Principal
from ..services import exports
from .auth import PrincipalDep
from .deps import StreamingSessionDep

router = APIRouter(prefix="/export", tags=["export"])
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV, one row per record."}
}


def _csv(
    session: Session, principal: Principal, name: str, params: ListParams
) -> StreamingResponse:
    model, statement, to_record = exports.export(name, params)
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
    return _csv(session, principal, "jurisdictions", params)


@router.get("/agencies.csv", response_class=StreamingResponse, responses=CSV)
def export_agencies(
    session: StreamingSessionDep, principal: PrincipalDep, params: Annotated[AgencyFilters, Query()]
) -> StreamingResponse:
    """Agencies as CSV; the list's filters, all pages."""
    return _csv(session, principal, "agencies", params)


@router.get("/votes.csv", response_class=StreamingResponse, responses=CSV)
def export_votes(
    session: StreamingSessionDep, principal: PrincipalDep, params: Annotated[VoteFilters, Query()]
) -> StreamingResponse:
    """Votes as CSV; the list's filters, all pages."""
    return _csv(session, principal, "votes", params)


@router.get("/letters.csv", response_class=StreamingResponse, responses=CSV)
def export_letters(
    session: StreamingSessionDep, principal: PrincipalDep, params: Annotated[LetterFilters, Query()]
) -> StreamingResponse:
    """Letters as CSV; the list's filters, all pages."""
    return _csv(session, principal, "letters", params)


@router.get("/responses.csv", response_class=StreamingResponse, responses=CSV)
def export_responses(
    session: StreamingSessionDep,
    principal: PrincipalDep,
    params: Annotated[ResponseFilters, Query()],
) -> StreamingResponse:
    """Responses as CSV; the list's filters, all pages."""
    return _csv(session, principal, "responses", params)
