"""/api/v1/votes"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.auth import Admin, PrincipalDep, Writer
from ..http.deps import IdPath, SessionDep
from ..schemas import Page, VoteCreate, VoteFilters, VotePublic, VoteUpdate
from ..services import votes as service
from .conventions import CREATED, IfMatchDep, IfNoneMatchDep, page, record_tag, visible, written
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/votes", tags=["votes"])


@router.get("")
def list_votes(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[VoteFilters, Query()],
) -> Page[VotePublic]:
    """List votes, newest first by default."""
    items, total = service.list_(session, params)
    shown = [visible(VotePublic.model_validate(x), principal) for x in items]
    return page(request, response, shown, total, params)


@router.get("/{vote_id}", response_model=VotePublic)
def get_vote(
    vote_id: IdPath,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
) -> VotePublic | Response:
    """One vote."""
    x = service.get(session, vote_id)
    tag = record_tag(x)
    return if_none_match.answer(
        response, tag, principal, lambda: visible(VotePublic.model_validate(x), principal)
    )


@router.post("", status_code=201, response_model=VotePublic, responses=CREATED)
def create_vote(
    payload: VoteCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> VotePublic | Response:
    """Log a vote; only an introduced or scheduled vote may lie in the future."""
    return idempotency.create(
        payload,
        response,
        lambda: written(
            response, service.create(session, payload, principal), VotePublic, principal
        ),
        lambda body: str(request.url_for("get_vote", vote_id=body.id)),
    )


@router.patch("/{vote_id}")
def update_vote(
    vote_id: IdPath,
    payload: VoteUpdate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatchDep,
) -> VotePublic:
    """Change the fields sent; send If-Match with the ETag you read to avoid lost updates."""
    x = service.get(session, vote_id)
    if_match.check(record_tag(x), principal, VotePublic.model_validate(x), payload)
    return written(response, service.update(session, x, payload, principal), VotePublic, principal)


@router.delete("/{vote_id}", status_code=204, response_class=Response)
def delete_vote(
    vote_id: IdPath, session: SessionDep, principal: Admin, if_match: IfMatchDep
) -> None:
    """Delete a vote (admins only); If-Match is honoured."""
    x = service.get(session, vote_id)
    if_match.check(record_tag(x), principal, VotePublic.model_validate(x))
    service.delete(session, x, principal)
