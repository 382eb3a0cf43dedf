"""/api/v1/jurisdictions/{id}/notices: the written notice, one letter per recipient."""

from fastapi import APIRouter, Response

from ..http.auth import Writer
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..schemas import LetterPublic, NoticeCreate, NoticeLetters
from ..services import notices as service
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/jurisdictions", tags=["jurisdictions"])


@router.post("/{jurisdiction_id}/notices", status_code=201, response_model=NoticeLetters)
def send_notice(
    jurisdiction_id: IdPath,
    payload: NoticeCreate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    settings: SettingsDep,
) -> NoticeLetters | Response:
    """Log the written notice: an opt-out request to each recipient, all or none."""

    def make() -> NoticeLetters:
        window = settings.response_window_days
        sent = service.send_notice(session, jurisdiction_id, payload, principal, window)
        return NoticeLetters(letters=[LetterPublic.model_validate(x) for x in sent])

    return idempotency.once(payload.model_dump_json(), response, make, status=201)
