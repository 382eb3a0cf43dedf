"""API keys on pages, the same on /account (a person's own) and /admin/api-keys (every
key): the list, the form that makes one (its token shown on that one answer, never stored,
never cached), and revoking."""

from collections.abc import Callable
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from ..enums import SCOPE_ACCESS, Scope
from ..errors import AppError
from ..i18n import N_, Translated
from ..schemas import ApiKeyCreate
from ..security import Principal
from ..services import accounts
from ..text_input import field_errors, parse
from .forms import Once

SCOPE_WORDS = Translated(
    {
        Scope.read: N_("read: also private notes"),
        Scope.write: N_("write: also create and edit"),
        Scope.admin: N_("admin: everything"),
    }
)
# Renders a page with the keys: its status code, then what `context` takes besides the
# session and the caller (a refused form's values and errors, a new key and its token).
KeysPage = Callable[..., Response]


def context(session: Session, principal: Principal, **form: Any) -> dict[str, Any]:
    """What a page with keys shows: the caller's keys (an admin's: all), the scopes they may
    give a new one, the refused form's values and errors, a key just made and its token."""
    return {
        "found": accounts.list_api_keys(session, principal),
        "scopes": [
            (scope.value, words)
            for scope, words in SCOPE_WORDS.items()
            if principal.can(SCOPE_ACCESS[scope])
        ],
        "values": {"scope": Scope.read.value},  # the safe choice, unless changed
        "errors": {},
        "new_key": None,
        "new_token": None,
        **form,
    }


def create(
    form: dict[str, str],
    session: Session,
    principal: Principal,
    once: Once,
    page: KeysPage,
    landing: str,
) -> Response:
    """Make the key the form asks for and show `page` with its token, or the form's errors."""
    try:
        with session.begin_nested():
            data = parse(ApiKeyCreate, form)
            key, token = accounts.create_api_key(session, data.name, data.scope, principal)
    except (ValidationError, AppError) as exc:
        return page(422, values=form, errors=field_errors(exc))
    # Shown on this answer only, never stored: no redirect, and the page is not cached; a
    # second tap lands on `landing`, the list of keys.
    once.remember(landing)
    response = page(200, new_token=token, new_key=key)
    response.headers["Cache-Control"] = "no-store"
    return response


def revoke(
    key_id: int, session: Session, principal: Principal, once: Once, landing: str
) -> Response:
    key = accounts.revoke_api_key(session, key_id, principal)
    return once.saved(landing, f"Revoked the key {key.name!r}.")
