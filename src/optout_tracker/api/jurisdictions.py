"""/api/v1/jurisdictions"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.auth import Admin, PrincipalDep, Writer
from ..http.deps import IdPath, SessionDep
from ..schemas import (
    AsOfParams,
    JurisdictionCreate,
    JurisdictionFilters,
    JurisdictionPublic,
    JurisdictionUpdate,
    Page,
    PageParams,
    Timeline,
)
from ..services import campaign, public
from ..services import jurisdictions as service
from .conventions import CREATED, IfMatchDep, IfNoneMatchDep, link_pages, page, tagged, visible
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/jurisdictions", tags=["jurisdictions"])


@router.get("")
def list_jurisdictions(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[JurisdictionFilters, Query()],
) -> Page[JurisdictionPublic]:
    """List jurisdictions with their campaign status, filtered, sorted and paged."""
    items, total = service.list_(session, params)
    return page(request, response, [visible(j, principal) for j in items], total, params)


@router.get("/{jurisdiction_id}", response_model=JurisdictionPublic)
def get_jurisdiction(
    jurisdiction_id: IdPath,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
    params: Annotated[AsOfParams, Query()],
) -> JurisdictionPublic | Response:
    """One jurisdiction with its campaign status, as of today or another day."""
    j, s, tag = service.read(session, jurisdiction_id, params.as_of)
    return if_none_match.answer(
        response,
        tag,
        principal,
        lambda: visible(public.jurisdiction(j, s, params.as_of), principal),
    )


@router.get("/{jurisdiction_id}/timeline")
def get_jurisdiction_timeline(
    jurisdiction_id: IdPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[PageParams, Query()],
) -> Timeline:
    """A jurisdiction's votes, letters, responses and announcements by date, oldest first, paged."""
    timeline = campaign.timeline(session, jurisdiction_id, params)
    for entry in timeline.items:
        entry.record = visible(entry.record, principal)
    link_pages(request, response, timeline.total, params)
    return timeline


@router.post("", status_code=201, response_model=JurisdictionPublic, responses=CREATED)
def create_jurisdiction(
    payload: JurisdictionCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> JurisdictionPublic | Response:
    """Add a jurisdiction (a city, say); slug and parent are derived when omitted."""

    def make() -> JurisdictionPublic:
        j, s = service.get(session, service.create(session, payload, principal).id or 0)
        return tagged(response, service.etag(j, s), public.jurisdiction(j, s), principal)

    return idempotency.create(
        payload,
        response,
        make,
        lambda body: str(request.url_for("get_jurisdiction", jurisdiction_id=body.id)),
    )


@router.patch("/{jurisdiction_id}")
def update_jurisdiction(
    jurisdiction_id: IdPath,
    payload: JurisdictionUpdate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatchDep,
) -> JurisdictionPublic:
    """Change the fields sent; send If-Match with the ETag you read to avoid lost updates."""
    j, s = service.get(session, jurisdiction_id)
    if_match.check(service.etag(j, s), principal, public.jurisdiction(j, s), payload)
    service.update(session, j, payload, principal)
    return tagged(response, service.etag(j, s), public.jurisdiction(j, s), principal)


@router.delete("/{jurisdiction_id}", status_code=204, response_class=Response)
def delete_jurisdiction(
    jurisdiction_id: IdPath, session: SessionDep, principal: Admin, if_match: IfMatchDep
) -> None:
    """Delete a jurisdiction that has no events (admins only); If-Match is honoured."""
    j, s = service.get(session, jurisdiction_id)
    if_match.check(service.etag(j, s), principal, public.jurisdiction(j, s))
    service.delete(session, j, principal)
