"""/api/v1/responses"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.auth import Admin, PrincipalDep, Writer
from ..http.deps import IdPath, SessionDep
from ..schemas import Page, ResponseCreate, ResponseFilters, ResponsePublic, ResponseUpdate
from ..services import responses as service
from .conventions import CREATED, IfMatchDep, IfNoneMatchDep, page, record_tag, visible, written
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/responses", tags=["responses"])


@router.get("")
def list_responses(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ResponseFilters, Query()],
) -> Page[ResponsePublic]:
    """List responses, newest first by default."""
    items, total = service.list_(session, params)
    shown = [visible(ResponsePublic.model_validate(x), principal) for x in items]
    return page(request, response, shown, total, params)


@router.get("/{response_id}", response_model=ResponsePublic)
def get_response(
    response_id: IdPath,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
) -> ResponsePublic | Response:
    """One response."""
    x = service.get(session, response_id)
    tag = record_tag(x)
    return if_none_match.answer(
        response, tag, principal, lambda: visible(ResponsePublic.model_validate(x), principal)
    )


@router.post("", status_code=201, response_model=ResponsePublic, responses=CREATED)
def create_response(
    payload: ResponseCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> ResponsePublic | Response:
    """Log an answer received; activation_date_adjusted moves the scheduled activation."""
    return idempotency.create(
        payload,
        response,
        lambda: written(
            response, service.create(session, payload, principal), ResponsePublic, principal
        ),
        lambda body: str(request.url_for("get_response", response_id=body.id)),
    )


@router.patch("/{response_id}")
def update_response(
    response_id: IdPath,
    payload: ResponseUpdate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatchDep,
) -> ResponsePublic:
    """Change the fields sent; send If-Match with the ETag you read to avoid lost updates."""
    x = service.get(session, response_id)
    if_match.check(
        record_tag(x),
        principal,
        ResponsePublic.model_validate(x),
        payload,
    )
    return written(
        response, service.update(session, x, payload, principal), ResponsePublic, principal
    )


@router.delete("/{response_id}", status_code=204, response_class=Response)
def delete_response(
    response_id: IdPath, session: SessionDep, principal: Admin, if_match: IfMatchDep
) -> None:
    """Delete a response (admins only); If-Match is honoured."""
    x = service.get(session, response_id)
    if_match.check(record_tag(x), principal, ResponsePublic.model_validate(x))
    service.delete(session, x, principal)
