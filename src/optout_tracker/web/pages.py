"""Signing in and out."""

import ipaddress
import re
from typing import Annotated
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..db import UnitsOfWork
from ..errors import Message, TooManyRequests
from ..http import csrf
from ..http.auth import SESSION_TOKEN, PrincipalDep, get_principal
from ..http.deps import SessionDep, UnitsDep
from ..i18n import Sentence
from ..middleware import language_cookie
from ..schemas import CONTROL
from ..services import accounts
from .templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


# Browsers read a backslash as a slash and drop tabs and newlines: "/\\evil.example" and
# "/\t/evil.example" both lead to //evil.example.
_UNSAFE_IN_NEXT = re.compile(r"[\\\x00-\x1f\x7f]")


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would hand a phishing page our sign-in."""
    if not target or _UNSAFE_IN_NEXT.search(unquote(target)):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def client_address(request: Request) -> str:
    """The caller, for the sign-in budget and throttle: its address (behind a proxy, uvicorn's
    proxy_headers has put the real one here), or for IPv6 its /64, which one host commonly
    holds whole and could otherwise step through."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]  # login_throttle.client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # an IPv4 client on a dual-stack socket
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: PrincipalDep, next: str | None = None) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"principal": principal, "next": safe_next(next), "email": ""}
    )


# No SessionDep here: it would hold a writer's transaction while argon2 runs (see
# accounts.authenticate_user), so this route opens short units of work of its own.
@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    units: UnitsDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    client = client_address(request)
    user = None
    try:
        # No account has control characters in its email; they are wrong credentials.
        if not (CONTROL.search(email) or CONTROL.search(password)):
            request.app.state.sign_in_budget.spend(client)  # before argon2 burns any CPU
            user = accounts.authenticate_user(units, email, password, client)
        if user is not None:
            with units() as session:
                if isinstance(previous := request.session.get(SESSION_TOKEN), str):
                    accounts.end_session(session, previous)  # signing in again replaces it
                token = accounts.start_session(session, user)
    except TooManyRequests as exc:
        return _login_refused(request, units, email, next, exc.detail, 429, exc.headers)
    if user is None:
        refusal = Sentence("Wrong email or password.")
        return _login_refused(request, units, email, next, refusal, 401)
    request.session.clear()  # a fresh session: nothing from before sign-in carries over
    request.session[SESSION_TOKEN] = token
    csrf.rotate(request)
    response = RedirectResponse(safe_next(next), status_code=303)
    if user.locale:  # their own language, from this browser on
        response.headers.append("set-cookie", language_cookie(user.locale))
    return response


def _login_refused(
    request: Request,
    units: UnitsOfWork,
    email: str,
    next: str | None,
    error: Message,
    status_code: int,
    headers: dict[str, str] | None = None,
) -> Response:
    with units(write=False) as session:
        principal = get_principal(request, session)
    context = {"principal": principal, "next": safe_next(next), "email": email, "error": str(error)}
    return templates.TemplateResponse(
        request, "login.html", context, status_code=status_code, headers=headers
    )


@router.get("/logout", response_class=HTMLResponse)
def logout_form(request: Request, principal: PrincipalDep) -> Response:
    return templates.TemplateResponse(request, "logout.html", {"principal": principal})


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    if isinstance(token := request.session.get(SESSION_TOKEN), str):
        accounts.end_session(session, token)  # a copy of the cookie is worth nothing now
    request.session.clear()
    csrf.rotate(request)
    return RedirectResponse("/", status_code=303)
