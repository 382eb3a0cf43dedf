"""/api/v1/agencies"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.auth import Admin, PrincipalDep, Writer
from ..http.deps import IdPath, SessionDep
from ..schemas import AgencyCreate, AgencyFilters, AgencyPublic, AgencyUpdate, Page
from ..services import agencies as service
from .conventions import CREATED, IfMatchDep, IfNoneMatchDep, page, record_tag, visible, written
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/agencies", tags=["agencies"])


@router.get("")
def list_agencies(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[AgencyFilters, Query()],
) -> Page[AgencyPublic]:
    """List agencies: state identification bureaus, ICE, DHS and others."""
    items, total = service.list_(session, params)
    shown = [visible(AgencyPublic.model_validate(x), principal) for x in items]
    return page(request, response, shown, total, params)


@router.get("/{agency_id}", response_model=AgencyPublic)
def get_agency(
    agency_id: IdPath,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
) -> AgencyPublic | Response:
    """One agency."""
    x = service.get(session, agency_id)
    tag = record_tag(x)
    return if_none_match.answer(
        response, tag, principal, lambda: visible(AgencyPublic.model_validate(x), principal)
    )


@router.post("", status_code=201, response_model=AgencyPublic, responses=CREATED)
def create_agency(
    payload: AgencyCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> AgencyPublic | Response:
    """Add an agency."""
    return idempotency.create(
        payload,
        response,
        lambda: written(
            response, service.create(session, payload, principal), AgencyPublic, principal
        ),
        lambda body: str(request.url_for("get_agency", agency_id=body.id)),
    )


@router.patch("/{agency_id}")
def update_agency(
    agency_id: IdPath,
    payload: AgencyUpdate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatchDep,
) -> AgencyPublic:
    """Change the fields sent; send If-Match with the ETag you read to avoid lost updates."""
    x = service.get(session, agency_id)
    if_match.check(record_tag(x), principal, AgencyPublic.model_validate(x), payload)
    return written(
        response, service.update(session, x, payload, principal), AgencyPublic, principal
    )


@router.delete("/{agency_id}", status_code=204, response_class=Response)
def delete_agency(
    agency_id: IdPath, session: SessionDep, principal: Admin, if_match: IfMatchDep
) -> None:
    """Delete a agency (admins only); If-Match is honoured."""
    x = service.get(session, agency_id)
    if_match.check(record_tag(x), principal, AgencyPublic.model_validate(x))
    service.delete(session, x, principal)
