"""`/healthz` and `/readyz`, for a load balancer or an orchestrator: whether the process
answers, and whether it can serve (its database answers and is at this release's schema)."""

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .. import schema_version
from ..http.problems import problem

router = APIRouter(include_in_schema=False)
NOT_KEPT = {"Cache-Control": "no-store"}


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process answers (on the event loop, busy worker threads or not); nothing else is
    asked: a restart would not mend the database."""
    return JSONResponse({"status": "ok"}, headers=NOT_KEPT)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers, and its schema is this release's newest."""
    needed = schema_version.newest()
    try:
        with request.app.state.engine.connect() as connection:
            found = schema_version.current(connection)
    except sa.exc.SQLAlchemyError as exc:
        return _not_ready(f"the database does not answer: {exc.__class__.__name__}")
    if found != needed:
        at = f"is at migration {found}" if found else "has no schema yet"
        return _not_ready(
            f"the database {at}; this release needs {needed}: run `optout-tracker db upgrade`"
        )
    return JSONResponse({"status": "ready", "schema": needed}, headers=NOT_KEPT)


def _not_ready(detail: str) -> JSONResponse:
    return problem(503, detail, headers={**NOT_KEPT, "Retry-After": "5"})
