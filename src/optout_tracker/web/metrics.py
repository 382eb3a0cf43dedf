"""`/metrics`: this app process's Prometheus metrics, for an admin key (http/metrics.py says
what they are)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..db_types import utcnow
from ..http.auth import Admin
from ..http.deps import SessionDep
from ..http.metrics import Metrics
from ..services import backlog

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request, session: SessionDep, _: Admin) -> Response:
    """This process's metrics in the Prometheus text format (OpenMetrics if asked for)."""
    kept: Metrics = request.app.state.metrics
    body, content_type = kept.exposition(
        request.headers.get("accept", ""), backlog.depths(session, utcnow())
    )
    # A known caller's answer is private already (SecurityHeaders); no-store says it plainly.
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
