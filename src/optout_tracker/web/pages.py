"""Signing in and out."""

import time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import csrf
from ..api.auth import PrincipalDep
from ..api.deps import SessionDep
from ..errors import TooManyRequests
from ..schemas import CONTROL
from ..services import accounts
from .forms import csrf_protected
from .templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protected)])


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would hand a phishing page our sign-in."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: PrincipalDep, next: str | None = None) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"principal": principal, "next": safe_next(next), "email": ""}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    context = {"principal": principal, "next": safe_next(next), "email": email}
    try:
        # No account has control characters in its email; they are wrong credentials.
        has_control = CONTROL.search(email) or CONTROL.search(password)
        user = None if has_control else accounts.authenticate_user(session, email, password)
    except TooManyRequests as exc:
        return templates.TemplateResponse(
            request,
            "login.html",
            {**context, "error": exc.detail},
            status_code=429,
            headers=exc.headers,
        )
    if user is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {**context, "error": "Wrong email or password."},
            status_code=401,
        )
    request.session.clear()  # a fresh session: nothing from before sign-in carries over
    request.session.update(user_id=user.id, signed_in_at=int(time.time()))
    csrf.rotate(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/logout", response_class=HTMLResponse)
def logout_form(request: Request, principal: PrincipalDep) -> Response:
    return templates.TemplateResponse(request, "logout.html", {"principal": principal})


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    csrf.rotate(request)
    return RedirectResponse("/", status_code=303)
