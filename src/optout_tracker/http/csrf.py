"""CSRF tokens for cookie-authenticated requests: one token per session, checked in one place;
and the one-time tokens of page forms, signed with it."""

import base64
import hmac
import secrets

from starlette.requests import Request

from ..errors import Forbidden
from ..i18n import Sentence
from ..security import Principal

FORM_FIELD = "csrf_token"
ONCE_FIELD = "form_token"  # the one-time token of a page form (web/forms.py: FormOnce)
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
        raise Forbidden(Sentence("missing or wrong CSRF token: reload the page and submit again"))


def _signature(request: Request, principal: Principal, nonce: str) -> str:
    mac = hmac.new(csrf_token(request).encode(), f"{principal.key}\n{nonce}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode()


def form_token(request: Request, principal: Principal) -> str:
    """A new one-time token for one rendering of a form: a random nonce (unguessable) signed
    with the session's CSRF secret for this user, so only this sign-in can spend it."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_signature(request, principal, nonce)}"


def form_token_nonce(request: Request, principal: Principal, token: str) -> str:
    """The nonce of a token this sign-in was given: what identifies the form once spent."""
    nonce, _, signature = token.partition(".")
    expected = _signature(request, principal, nonce)
    if not (nonce and hmac.compare_digest(signature.encode(), expected.encode())):
        raise Forbidden(
            Sentence("this form was opened by another sign-in: reload the page and submit again")
        )
    return nonce
