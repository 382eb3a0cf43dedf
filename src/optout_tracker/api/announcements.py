"""/api/v1/announcements"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.auth import Admin, PrincipalDep, Writer
from ..http.deps import IdPath, SessionDep
from ..schemas import (
    AnnouncementCreate,
    AnnouncementFilters,
    AnnouncementPublic,
    AnnouncementUpdate,
    Page,
)
from ..services import announcements as service
from .conventions import CREATED, IfMatchDep, IfNoneMatchDep, page, record_tag, visible, written
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/announcements", tags=["announcements"])


@router.get("")
def list_announcements(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[AnnouncementFilters, Query()],
) -> Page[AnnouncementPublic]:
    """List announcements, newest first by default."""
    items, total = service.list_(session, params)
    shown = [visible(AnnouncementPublic.model_validate(x), principal) for x in items]
    return page(request, response, shown, total, params)


@router.get("/{announcement_id}", response_model=AnnouncementPublic)
def get_announcement(
    announcement_id: IdPath,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
) -> AnnouncementPublic | Response:
    """One announcement."""
    x = service.get(session, announcement_id)
    tag = record_tag(x)
    return if_none_match.answer(
        response, tag, principal, lambda: visible(AnnouncementPublic.model_validate(x), principal)
    )


@router.post("", status_code=201, response_model=AnnouncementPublic, responses=CREATED)
def create_announcement(
    payload: AnnouncementCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> AnnouncementPublic | Response:
    """Log an announcement made to every campaign in its scope; not in the future."""
    return idempotency.create(
        payload,
        response,
        lambda: written(
            response, service.create(session, payload, principal), AnnouncementPublic, principal
        ),
        lambda body: str(request.url_for("get_announcement", announcement_id=body.id)),
    )


@router.patch("/{announcement_id}")
def update_announcement(
    announcement_id: IdPath,
    payload: AnnouncementUpdate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatchDep,
) -> AnnouncementPublic:
    """Change the fields sent; send If-Match with the ETag you read to avoid lost updates."""
    x = service.get(session, announcement_id)
    if_match.check(record_tag(x), principal, AnnouncementPublic.model_validate(x), payload)
    return written(
        response, service.update(session, x, payload, principal), AnnouncementPublic, principal
    )


@router.delete("/{announcement_id}", status_code=204, response_class=Response)
def delete_announcement(
    announcement_id: IdPath, session: SessionDep, principal: Admin, if_match: IfMatchDep
) -> None:
    """Delete an announcement (admins only); If-Match is honoured."""
    x = service.get(session, announcement_id)
    if_match.check(record_tag(x), principal, AnnouncementPublic.model_validate(x))
    service.delete(session, x, principal)
