"""Who is calling, and whether they may: API keys, the session cookie, or anonymous."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from ..enums import Access
from ..errors import Forbidden, Unauthorized
from ..middleware import KNOWN_CALLER, language_asked
from ..models import User
from ..security import ANONYMOUS, Principal
from ..services import accounts
from . import csrf
from .deps import SessionDep, get_units

SESSION_TOKEN = "session"  # the cookie's key for the token of a server-side session
PRINCIPAL = "principal"  # on request.state: who the route identified the caller as
REQUIRES = "openapi_requires"  # attribute of `require`'s dependency: the access it needs
ACCESS_WORDS = {
    Access.read: "a signed-in user or an API key",
    Access.write: "role organizer or an API key with scope write",
    Access.admin: "role admin or an API key with scope admin",
}


def api_token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


def get_principal(request: Request, session: SessionDep) -> Principal:
    principal = _identify(request, session)
    # The answer depends on who asks (Vary), and a known caller's is never cached.
    setattr(request.state, KNOWN_CALLER, not principal.anonymous)
    setattr(request.state, PRINCIPAL, principal)
    return principal


def identified(request: Request) -> Principal:
    """Who asked, for an answer made outside a route (an error page): whom the route
    identified, else the user of the session cookie (an unknown path never reached a route).
    An API key's caller is left out: errors reach it as JSON, not pages."""
    if (principal := getattr(request.state, PRINCIPAL, None)) is not None:
        return principal
    token = request.session.get(SESSION_TOKEN) if "session" in request.scope else None
    if not isinstance(token, str):
        return ANONYMOUS
    with get_units(request)(write=False) as session:
        user = accounts.session_user(session, token)
    return ANONYMOUS if user is None else accounts.user_principal(user, via_session=True)


def _identify(request: Request, session: SessionDep) -> Principal:
    if (token := api_token(request)) is not None:
        return accounts.authenticate_key(session, token)
    session_token = request.session.get(SESSION_TOKEN)
    if not isinstance(session_token, str):
        return ANONYMOUS
    user = accounts.session_user(session, session_token)
    if user is None:  # signed out, expired or deactivated: this cookie is done
        request.session.clear()
        return ANONYMOUS
    principal = accounts.user_principal(user, via_session=True)
    _keep_language(request, session, user, principal)
    return principal


def _keep_language(request: Request, session: Session, user: User, principal: Principal) -> None:
    """A signed-in user's `?lang=` becomes their account's language too (their mail's, and
    their pages' in another browser), as /account/language does; written only when it
    changes it, so the language switch costs a write once."""
    asked = language_asked(request.scope)
    if asked is None or asked == user.locale or user.id is None:
        return
    if request.method in {"GET", "HEAD", "OPTIONS"}:  # the route reads: a writer of its own
        with get_units(request)() as writer:
            accounts.set_locale(writer, user.id, asked, principal)
    else:
        accounts.set_locale(session, user.id, asked, principal)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(access: Access) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets only callers with `access` through (401 or 403 otherwise)."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        if principal.anonymous and access > Access.public:
            raise Unauthorized(
                f"this needs {ACCESS_WORDS[access]}: {accounts.HOW_TO_GET_A_KEY}, "
                "or sign in at /login"
            )
        if not principal.can(access):
            raise Forbidden(f"this needs {ACCESS_WORDS[access]}; {principal.label} may not")
        if principal.via_session:  # a key in a header cannot be sent by another site's form
            await csrf.verify(request)
        return principal

    setattr(check, REQUIRES, access)  # the OpenAPI document says who may call (api/openapi.py)
    return check


Reader = Annotated[Principal, Depends(require(Access.read))]
Writer = Annotated[Principal, Depends(require(Access.write))]
Admin = Annotated[Principal, Depends(require(Access.admin))]
