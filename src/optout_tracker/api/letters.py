"""/api/v1/letters"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.auth import Admin, PrincipalDep, Writer
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..schemas import LetterCreate, LetterFilters, LetterPublic, LetterUpdate, Page
from ..services import letters as service
from .conventions import CREATED, IfMatchDep, IfNoneMatchDep, page, record_tag, visible, written
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/letters", tags=["letters"])


@router.get("")
def list_letters(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[LetterFilters, Query()],
) -> Page[LetterPublic]:
    """List letters, newest first by default."""
    items, total = service.list_(session, params)
    shown = [visible(LetterPublic.model_validate(x), principal) for x in items]
    return page(request, response, shown, total, params)


@router.get("/{letter_id}", response_model=LetterPublic)
def get_letter(
    letter_id: IdPath,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
) -> LetterPublic | Response:
    """One letter."""
    x = service.get(session, letter_id)
    tag = record_tag(x)
    return if_none_match.answer(
        response, tag, principal, lambda: visible(LetterPublic.model_validate(x), principal)
    )


@router.post("", status_code=201, response_model=LetterPublic, responses=CREATED)
def create_letter(
    payload: LetterCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    settings: SettingsDep,
) -> LetterPublic | Response:
    """Log a letter sent; response_due_on defaults to sent_on plus the response window."""
    return idempotency.create(
        payload,
        response,
        lambda: written(
            response,
            service.create(session, payload, principal, settings.response_window_days),
            LetterPublic,
            principal,
        ),
        lambda body: str(request.url_for("get_letter", letter_id=body.id)),
    )


@router.patch("/{letter_id}")
def update_letter(
    letter_id: IdPath,
    payload: LetterUpdate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatchDep,
) -> LetterPublic:
    """Change the fields sent; send If-Match with the ETag you read to avoid lost updates."""
    x = service.get(session, letter_id)
    if_match.check(record_tag(x), principal, LetterPublic.model_validate(x), payload)
    return written(
        response, service.update(session, x, payload, principal), LetterPublic, principal
    )


@router.delete("/{letter_id}", status_code=204, response_class=Response)
def delete_letter(
    letter_id: IdPath, session: SessionDep, principal: Admin, if_match: IfMatchDep
) -> None:
    """Delete a letter (admins only); If-Match is honoured."""
    x = service.get(session, letter_id)
    if_match.check(record_tag(x), principal, LetterPublic.model_validate(x))
    service.delete(session, x, principal)
