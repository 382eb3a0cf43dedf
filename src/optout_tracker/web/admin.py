"""`/admin`: users and API keys, for admins (webhooks: admin_webhooks.py)."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from ..enums import Role
from ..errors import AppError, FieldError, Forbidden, InvalidInput
from ..http import csrf
from ..http.deps import IdPath, SessionDep
from ..schemas import ApiKeyCreate
from ..security import Principal
from ..services import accounts
from ..text_input import field_errors, parse
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
    """The API keys page; `new_token`/`new_key` show a key just made, once."""
    keys = accounts.list_api_keys(session)
    context = {"values": {}, "errors": {}, "new_token": None, **form}
    return render(request, principal, "admin_keys.html", status_code, keys=keys, **context)


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
                raise InvalidInput("pick a role", [FieldError("role", "pick a role")])
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
    return once.saved("/admin/users", f"Created {user.role} {user.email}.")


@router.post("/users/{user_id}/active", response_class=HTMLResponse)
def set_user_active(
    user_id: IdPath, form: FormData, session: SessionDep, principal: AdminUser, once: Once
) -> Response:
    active = form.get("active") == "true"
    if not active and user_id == principal.id:
        raise Forbidden("you cannot deactivate your own account")
    user = accounts.set_active(session, user_id, active, principal)
    return once.saved(
        "/admin/users", f"{user.email} is now {'active' if active else 'deactivated'}."
    )


@router.get("/api-keys", response_class=HTMLResponse)
def keys_page(request: Request, session: SessionDep, principal: AdminUser) -> Response:
    return _keys_page(request, principal, session)


@router.post("/api-keys", response_class=HTMLResponse)
def create_key(
    request: Request, form: FormData, session: SessionDep, principal: AdminUser, once: Once
) -> Response:
    try:
        with session.begin_nested():
            data = parse(ApiKeyCreate, form)
            key, token = accounts.create_api_key(session, data.name, data.scope, principal)
    except (ValidationError, AppError) as exc:
        return _keys_page(request, principal, session, 422, values=form, errors=field_errors(exc))
    # Shown on this answer only, never stored: no redirect, and the page is not cached; a
    # second tap lands on the list of keys.
    once.remember("/admin/api-keys")
    response = _keys_page(request, principal, session, new_token=token, new_key=key)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/api-keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(key_id: IdPath, session: SessionDep, principal: AdminUser, once: Once) -> Response:
    key = accounts.revoke_api_key(session, key_id, principal)
    return once.saved("/admin/api-keys", f"Revoked the key {key.name!r}.")
