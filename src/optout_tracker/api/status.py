"""/api/v1/status: the campaign at a glance."""

from typing import Annotated

from fastapi import APIRouter, Query

from ..http.deps import SessionDep
from ..schemas import ByFipsFilters, FipsStatus, StatusSummary, SummaryFilters
from ..services import campaign

router = APIRouter(prefix="/status", tags=["status"])


@router.get("/summary")
def get_status_summary(
    session: SessionDep, params: Annotated[SummaryFilters, Query()]
) -> StatusSummary:
    """Counts of jurisdictions per campaign status, overall and per state, as of a day."""
    return campaign.summary(session, params)


@router.get("/by-fips")
def get_status_by_fips(
    session: SessionDep, params: Annotated[ByFipsFilters, Query()]
) -> list[FipsStatus]:
    """Status of every jurisdiction with a FIPS code as of a day, for joining to your own map."""
    return campaign.by_fips(session, params)
