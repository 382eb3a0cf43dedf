"""/api/v1/export/{kind}.csv: the lists as CSV, with the same filters.

The rows are read in one short transaction into a temporary file, which is then sent: a
client that downloads slowly, or never, holds a file, not one of the few database
connections. At most `export_concurrency` exports are prepared at once per process.
"""

import threading
from collections.abc import Callable, Iterator
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
from ..schemas import KINDS, ListParams, RecordKind
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
    chosen = exports.export(session, name, params)
    header = chosen.header(private=principal.can(Access.read))
    slots: threading.BoundedSemaphore = request.app.state.export_slots
    if not slots.acquire(blocking=False):  # waiting would hold a worker thread: refuse now
        raise Busy("too many exports are being prepared; try again in a few seconds")
    try:
        spooled = csv_io.spool(session, chosen.statement, chosen.to_row, header)
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


def _route(kind: RecordKind) -> Callable[..., StreamingResponse]:
    """GET /export/<plural>.csv, operation export_<plural>: the kind's list as CSV."""

    def export(
        request: Request, session: SessionDep, principal: PrincipalDep, params: ListParams
    ) -> StreamingResponse:
        return _csv(request, session, principal, kind.plural, params)

    # The kind's own filters, so that the document lists them as the list's query parameters.
    export.__annotations__["params"] = Annotated[kind.filters, Query()]
    export.__name__ = f"export_{kind.plural}"
    export.__doc__ = kind.export_summary
    return export


for _kind in KINDS:
    router.add_api_route(
        f"/{_kind.plural}.csv",
        _route(_kind),
        methods=["GET"],
        response_class=StreamingResponse,
        responses=CSV,
        name=f"export_{_kind.plural}",
    )
