"""CSRF tokens for cookie-authenticated requests: one token per session, checked in one place."""

import hmac
import secrets

from starlette.requests import Request

from ..errors import Forbidden

FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(request: Request) -> str:
    """The session's token, made on first use; templates put it in every form."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def rotate(request: Request) -> None:
    """A new token at sign-in and sign-out, so a token seen before cannot be replayed."""
    request.session["csrf"] = secrets.token_urlsafe(32)


async def _submitted_token(request: Request) -> str | None:
    if token := request.headers.get(HEADER):
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def _is_valid(request: Request) -> bool:
    expected = request.session.get("csrf")
    submitted = await _submitted_token(request)
    return bool(expected and submitted and hmac.compare_digest(str(expected), submitted))


async def verify(request: Request) -> None:
    """403 for a request that changes something without the session's token: the one check,
    for every form post and for API calls made with the session cookie."""
    if request.method not in SAFE_METHODS and not await _is_valid(request):
        raise Forbidden("missing or wrong CSRF token: reload the page and submit again")
