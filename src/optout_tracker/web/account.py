"""/account: your follows and how their alerts reach you; the Follow buttons post here."""

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from .. import i18n
from ..enums import Access, Alerts
from ..errors import AppError
from ..http import csrf
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..i18n import Sentence
from ..middleware import language_asked, language_cookie
from ..schemas import FollowCreate, FollowUpdate
from ..security import Principal
from ..services import accounts, follows
from ..text_input import field_errors, parse
from . import api_keys
from .access import require_page
from .forms import FormData, Once
from .pages import safe_next
from .templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])
SignedIn = Annotated[
    Principal, Depends(require_page(Access.read, "following needs a signed-in account"))
]


def _account(
    request: Request,
    session: Session,
    principal: Principal,
    mail_on: bool,
    follow_errors: dict[str, str] | None = None,
    status_code: int = 200,
    **keys_form: Any,
) -> Response:
    """The page; `follow_errors` of a follow form, `keys_form` of the API key form."""
    user_id = follows.owner_id(session, principal)
    found = follows.list_(session, user_id)
    return render(
        request,
        principal,
        "account.html",
        status_code,
        follows=found,
        described=follows.described(session, found),
        follows_all=any(f.target.value == "all" for f in found),
        alerts=list(Alerts),
        mail_on=mail_on,
        email=follows.user_email(session, user_id),
        # This request's `?lang=` is the account's choice already (http/auth.py keeps it),
        # written in a transaction of its own that this page's reading one may not see.
        chosen_locale=language_asked(request.scope) or accounts.chosen_locale(session, user_id),
        errors=follow_errors or {},
        api_keys=api_keys.context(session, principal, **keys_form),
    )


@router.get("/account", response_class=HTMLResponse)
def account(
    request: Request, session: SessionDep, principal: SignedIn, settings: SettingsDep
) -> Response:
    return _account(request, session, principal, settings.mail_on)


@router.post("/account/follows", response_class=HTMLResponse)
def follow(
    request: Request,
    form: FormData,
    session: SessionDep,
    principal: SignedIn,
    once: Once,
    settings: SettingsDep,
) -> Response:
    user_id = follows.owner_id(session, principal)
    try:
        with session.begin_nested():  # a refused form leaves nothing behind
            follows.follow(session, user_id, parse(FollowCreate, form), principal)
    except (ValidationError, AppError) as exc:
        return _account(request, session, principal, settings.mail_on, field_errors(exc), 422)
    return once.saved(safe_next(form.get("next") or "/account"), Sentence("Following."))


@router.post("/account/follows/{follow_id}", response_class=HTMLResponse)
def change_alerts(
    request: Request,
    follow_id: IdPath,
    form: FormData,
    session: SessionDep,
    principal: SignedIn,
    once: Once,
    settings: SettingsDep,
) -> Response:
    found = follows.get(session, follows.owner_id(session, principal), follow_id)
    try:
        with session.begin_nested():
            follows.update(session, found, parse(FollowUpdate, form), principal)
    except (ValidationError, AppError) as exc:
        return _account(request, session, principal, settings.mail_on, field_errors(exc), 422)
    return once.saved("/account", Sentence("Alerts changed."))


@router.post("/account/follows/{follow_id}/delete", response_class=HTMLResponse)
def unfollow(
    request: Request, follow_id: IdPath, session: SessionDep, principal: SignedIn, once: Once
) -> Response:
    found = follows.get(session, follows.owner_id(session, principal), follow_id)
    follows.delete(session, found, principal)
    return once.saved("/account", Sentence("No longer following."))


@router.post("/account/api-keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    form: FormData,
    session: SessionDep,
    principal: SignedIn,
    once: Once,
    settings: SettingsDep,
) -> Response:
    page = partial(_account, request, session, principal, settings.mail_on, None)
    return api_keys.create(form, session, principal, once, page, "/account")


@router.post("/account/api-keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(key_id: IdPath, session: SessionDep, principal: SignedIn, once: Once) -> Response:
    return api_keys.revoke(key_id, session, principal, once, "/account")


@router.post("/account/language", response_class=HTMLResponse)
def choose_language(
    form: FormData, session: SessionDep, principal: SignedIn, once: Once
) -> Response:
    user_id = follows.owner_id(session, principal)
    user = accounts.set_locale(session, user_id, form.get("locale", ""), principal)
    with i18n.using(user.locale or i18n.SOURCE):  # the note in the language just chosen
        response = once.saved("/account", i18n.gettext("Language saved."))
    response.headers.append("set-cookie", language_cookie(user.locale or i18n.SOURCE))
    return response
