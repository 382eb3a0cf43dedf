"""/api/v1/jurisdictions"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..schemas import JurisdictionFilters, JurisdictionPublic, Page, Timeline
from ..services import campaign
from ..services import jurisdictions as service
from .deps import IdPath, SessionDep
from .http import conditional, page

router = APIRouter(prefix="/jurisdictions", tags=["jurisdictions"])


@router.get("")
def list_jurisdictions(
    request: Request,
    response: Response,
    session: SessionDep,
    params: Annotated[JurisdictionFilters, Query()],
) -> Page[JurisdictionPublic]:
    """List jurisdictions with their campaign status, filtered, sorted and paged."""
    items, total = service.list_(session, params)
    return page(request, response, items, total, params)


@router.get("/{jurisdiction_id}", response_model=JurisdictionPublic)
def get_jurisdiction(
    jurisdiction_id: IdPath, request: Request, response: Response, session: SessionDep
) -> JurisdictionPublic | Response:
    """One jurisdiction with its campaign status."""
    j, s = service.get(session, jurisdiction_id)
    return conditional(request, response, service.etag(j, s), lambda: service.to_public(j, s))


@router.get("/{jurisdiction_id}/timeline")
def get_jurisdiction_timeline(jurisdiction_id: IdPath, session: SessionDep) -> Timeline:
    """Votes, letters and responses of one jurisdiction merged by date."""
    return campaign.timeline(session, jurisdiction_id)
