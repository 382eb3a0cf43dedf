"""/api/v1/follows: the caller's own follows (a signed-in user's, or an API key owner's)."""

from fastapi import APIRouter, Request, Response

from ..http.auth import Reader
from ..http.deps import IdPath, SessionDep
from ..schemas import FollowCreate, FollowPublic, FollowUpdate
from ..services import follows as service
from .conventions import CREATED, IfMatchDep, IfNoneMatchDep, record_tag, tagged
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/follows", tags=["follows"])


@router.get("")
def list_follows(response: Response, session: SessionDep, principal: Reader) -> list[FollowPublic]:
    """Your follows, oldest first."""
    user_id = service.owner_id(session, principal)
    response.headers["Cache-Control"] = "private, no-cache"
    return [service.public(f) for f in service.list_(session, user_id)]


@router.post("", status_code=201, response_model=FollowPublic, responses=CREATED)
def create_follow(
    payload: FollowCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    idempotency: IdempotencyDep,
) -> FollowPublic | Response:
    """Follow a jurisdiction, a state or everything; 409 if you follow it already."""
    user_id = service.owner_id(session, principal)

    def make() -> FollowPublic:
        created = service.create(session, user_id, payload, principal)
        return tagged(response, record_tag(created), service.public(created), principal)

    return idempotency.create(
        payload, response, make, lambda body: str(request.url_for("get_follow", follow_id=body.id))
    )


@router.get("/{follow_id}", response_model=FollowPublic)
def get_follow(
    follow_id: IdPath,
    response: Response,
    session: SessionDep,
    principal: Reader,
    if_none_match: IfNoneMatchDep,
) -> FollowPublic | Response:
    """One of your follows."""
    found = service.get(session, service.owner_id(session, principal), follow_id)
    response.headers["Cache-Control"] = "private, no-cache"
    return if_none_match.answer(
        response, record_tag(found), principal, lambda: service.public(found)
    )


@router.patch("/{follow_id}")
def update_follow(
    follow_id: IdPath,
    payload: FollowUpdate,
    response: Response,
    session: SessionDep,
    principal: Reader,
    if_match: IfMatchDep,
) -> FollowPublic:
    """Change how a follow's alerts reach you."""
    found = service.get(session, service.owner_id(session, principal), follow_id)
    if_match.check(record_tag(found), principal, service.public(found), payload)
    updated = service.update(session, found, payload, principal)
    return tagged(response, record_tag(updated), service.public(updated), principal)


@router.delete("/{follow_id}", status_code=204, response_class=Response)
def delete_follow(
    follow_id: IdPath, session: SessionDep, principal: Reader, if_match: IfMatchDep
) -> None:
    """Stop following."""
    found = service.get(session, service.owner_id(session, principal), follow_id)
    if_match.check(record_tag(found), principal, service.public(found))
    service.delete(session, found, principal)
