"""/api/v1/export/{kind}.csv: the lists as CSV, with the same filters.

The rows are read in one short transaction into a temporary file, which is then sent: a
client that downloads slowly, or never, holds a file, not one of the few database
connections. At most `export_concurrency` exports are prepared at once per process.
"""

import threading
from collections.abc import Iterator
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from .. import csv_io
from ..enums import Access
from ..errors import Busy
from ..http import problems
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
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

router = APIRouter(prefix="/export", tags=["export"])
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV, one row per record."},
    **problems.documented(503),
}


CHUNK = 65_536


def _csv(
    request: Request, session: Session, principal: Principal, name: str, params: ListParams
) -> StreamingResponse:
    model, statement, to_record = exports.export(name, params)
    header = csv_io.columns(model, private=principal.can(Access.read))
    slots: threading.BoundedSemaphore = request.app.state.export_slots
    if not slots.acquire(blocking=False):  # waiting would hold a worker thread: refuse now
        raise Busy("too many exports are being prepared; try again in a few seconds")
    try:
        spooled = csv_io.spool(session, statement, to_record, header)
    finally:
        slots.release()
    size = spooled.seek(0, 2)
    spooled.seek(0)
    # The session's transaction ends when this function returns, before the first byte goes.
    return StreamingResponse(
        _chunks(spooled),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Content-Length": str(size),
        },
    )


def _chunks(spooled: IO[bytes]) -> Iterator[bytes]:
    with spooled:  # closed, and so deleted, however the download ends
        while chunk := spooled.read(CHUNK):
            yield chunk


@router.get("/jurisdictions.csv", response_class=StreamingResponse, responses=CSV)
def export_jurisdictions(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[JurisdictionFilters, Query()],
) -> StreamingResponse:
    """Jurisdictions with their campaign status as CSV; the list's filters, all pages."""
    return _csv(request, session, principal, "jurisdictions", params)


@router.get("/agencies.csv", response_class=StreamingResponse, responses=CSV)
def export_agencies(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[AgencyFilters, Query()],
) -> StreamingResponse:
    """Agencies as CSV; the list's filters, all pages."""
    return _csv(request, session, principal, "agencies", params)


@router.get("/votes.csv", response_class=StreamingResponse, responses=CSV)
def export_votes(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[VoteFilters, Query()],
) -> StreamingResponse:
    """Votes as CSV; the list's filters, all pages."""
    return _csv(request, session, principal, "votes", params)


@router.get("/letters.csv", response_class=StreamingResponse, responses=CSV)
def export_letters(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[LetterFilters, Query()],
) -> StreamingResponse:
    """Letters as CSV; the list's filters, all pages."""
    return _csv(request, session, principal, "letters", params)


@router.get("/responses.csv", response_class=StreamingResponse, responses=CSV)
def export_responses(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ResponseFilters, Query()],
) -> StreamingResponse:
    """Responses as CSV; the list's filters, all pages."""
    return _csv(request, session, principal, "responses", params)
