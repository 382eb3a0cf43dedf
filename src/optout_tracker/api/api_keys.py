"""/api/v1/api-keys: a signed-in user's (or a key owner's) own keys, scope up to their role;
admins see and revoke all."""

from fastapi import APIRouter, Request, Response

from ..errors import Conflict
from ..http.auth import Reader
from ..http.deps import IdPath, SessionDep
from ..schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from ..services import accounts
from .conventions import LOCATED
from .idempotency import ApiKeyIdempotencyDep

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get("")
def list_api_keys(session: SessionDep, principal: Reader) -> list[ApiKeyPublic]:
    """Your API keys (admins: every key), revoked ones included; tokens are never shown again."""
    return [ApiKeyPublic.model_validate(k) for k in accounts.list_api_keys(session, principal)]


@router.post("", status_code=201, responses=LOCATED)
def create_api_key(
    payload: ApiKeyCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    idempotency: ApiKeyIdempotencyDep,
) -> ApiKeyCreated:
    """Create a key of yours, scope up to your role; the answer holds its token, shown once."""
    # A retry with the same Idempotency-Key creates no second key, and cannot replay the
    # first answer either: its token is kept nowhere. 409 names the key made first.
    if (earlier := idempotency.claim(payload.model_dump_json())) is not None:
        first = ApiKeyPublic.model_validate_json(earlier.response_body)
        raise Conflict(
            f"this Idempotency-Key already created API key {first.id} ({first.name!r}); its "
            "token was shown once and is not kept: if that answer was lost, revoke the key "
            "and create another"
        )
    key, token = accounts.create_api_key(session, payload.name, payload.scope, principal)
    response.headers["Location"] = str(request.url_for("list_api_keys"))
    response.headers["Cache-Control"] = "no-store"
    idempotency.remember(201, ApiKeyPublic.model_validate(key), response)
    return ApiKeyCreated.model_validate({**key.model_dump(), "token": token})


@router.delete("/{api_key_id}")
def revoke_api_key(api_key_id: IdPath, session: SessionDep, principal: Reader) -> ApiKeyPublic:
    """Revoke one of your keys (admins: any): it stops working at once."""
    return ApiKeyPublic.model_validate(accounts.revoke_api_key(session, api_key_id, principal))
