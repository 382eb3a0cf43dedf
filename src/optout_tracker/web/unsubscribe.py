"""/unsubscribe/{token}: the one-click unsubscribe of every alert and digest (RFC 8058).

No sign-in and no CSRF token: the signed token in the path is the proof, and turning
alerts off twice changes nothing. GET only shows what a POST would do, since mail scanners
follow links."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..enums import Access, ActorKind
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep, SettingsDep
from ..security import Principal
from ..services import mail
from .templating import render

router = APIRouter(include_in_schema=False)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_form(
    request: Request, token: str, session: SessionDep, principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    found = mail.unsubscribing(session, settings, token)
    status = 200 if found is not None else 404
    return render(request, principal, "unsubscribe.html", status, found=found, done=False)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(
    request: Request, token: str, session: SessionDep, principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    found = mail.unsubscribing(session, settings, token)
    if found is None:
        return render(request, principal, "unsubscribe.html", 404, found=None, done=False)
    owner = found.follows[0].user_id if found.follows else None
    actor = Principal(ActorKind.user, owner, f"{found.email} (unsubscribe link)", Access.public)
    mail.unsubscribe(session, settings, token, actor)
    return render(request, principal, "unsubscribe.html", found=found, done=True)
