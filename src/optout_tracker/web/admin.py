"""`/admin`: users and API keys, for admins (webhooks: admin_webhooks.py)."""

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from ..enums import Role
from ..errors import AppError, FieldError, Forbidden, InvalidInput
from ..http import csrf
from ..http.deps import IdPath, SessionDep
from ..i18n import N_, Sentence
from ..security import Principal
from ..services import accounts
from ..text_input import field_errors
from ..wording import words
from . import api_keys
from .access import AdminUser
from .forms import FormData, Once
from .templating import render

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf.verify)])


def _users_page(
    request: Request, principal: Principal, session: Session, status_code: int = 200, **form: Any
) -> Response:
    """The users page, with the add-user form's `values` and `errors` when it was refused."""
    users = accounts.list_users(session)
    context = {"values": {}, "errors": {}, **form}
    return render(request, principal, "admin_users.html", status_code, users=users, **context)


def _keys_page(
    request: Request, principal: Principal, session: Session, status_code: int = 200, **form: Any
) -> Response:
    """The API keys page (api_keys.context: `form` holds a refused form or a key just made)."""
    keys = api_keys.context(session, principal, **form)
    return render(request, principal, "admin_keys.html", status_code, api_keys=keys)


@router.get("", response_class=HTMLResponse)
def admin_home() -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, principal: AdminUser) -> Response:
    return _users_page(request, principal, session)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request, form: FormData, session: SessionDep, principal: AdminUser, once: Once
) -> Response:
    try:
        with session.begin_nested():
            if form.get("role") not in {r.value for r in Role}:
                raise InvalidInput("pick a role", [FieldError("role", Sentence("pick a role"))])
            user = accounts.create_user(
                session,
                form.get("email", ""),
                Role(form["role"]),
                form.get("password", ""),
                principal,
            )
    except AppError as exc:
        values = {k: v for k, v in form.items() if k != "password"}
        return _users_page(
            request, principal, session, 422, values=values, errors=field_errors(exc)
        )
    created = Sentence("Created {role} {email}.", role=words(user.role), email=user.email)
    return once.saved("/admin/users", created)


@router.post("/users/{user_id}/active", response_class=HTMLResponse)
def set_user_active(
    user_id: IdPath, form: FormData, session: SessionDep, principal: AdminUser, once: Once
) -> Response:
    active = form.get("active") == "true"
    if not active and user_id == principal.id:
        raise Forbidden(Sentence("you cannot deactivate your own account"))
    user = accounts.set_active(session, user_id, active, principal)
    now = N_("{email} is now active.") if active else N_("{email} is now deactivated.")
    return once.saved("/admin/users", Sentence(now, email=user.email))


@router.get("/api-keys", response_class=HTMLResponse)
def keys_page(request: Request, session: SessionDep, principal: AdminUser) -> Response:
    return _keys_page(request, principal, session)


@router.post("/api-keys", response_class=HTMLResponse)
def create_key(
    request: Request, form: FormData, session: SessionDep, principal: AdminUser, once: Once
) -> Response:
    page = partial(_keys_page, request, principal, session)
    return api_keys.create(form, session, principal, once, page, "/admin/api-keys")


@router.post("/api-keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(key_id: IdPath, session: SessionDep, principal: AdminUser, once: Once) -> Response:
    return api_keys.revoke(key_id, session, principal, once, "/admin/api-keys")
