"""HTML forms over the API's schemas: the same validation, errors next to their fields; and
the one-time token every writing form carries, so that a double tap saves once."""

import hashlib
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from ..errors import AppError, FieldError, InvalidInput, Message
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..i18n import Sentence
from ..schemas import CONTROL
from ..services import idempotency
from ..text_input import field_errors
from .templating import flash

ALREADY_SAVED = Sentence("This form was already saved: here is what it saved.")
KEY_PREFIX = "form:"  # idempotency_key rows of form tokens, beside the API's keys


async def form_data(request: Request) -> dict[str, str]:
    """The posted fields as text (each page router has checked the CSRF token: csrf.verify)."""
    form = await request.form()
    tokens = {csrf.FORM_FIELD, csrf.ONCE_FIELD}
    data = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k not in tokens}
    if bad := [k for k, v in data.items() if CONTROL.search(v)]:
        raise InvalidInput(
            "the form holds control characters",
            [FieldError(k, Sentence("must not contain control characters")) for k in bad],
        )
    return data


FormData = Annotated[dict[str, str], Depends(form_data)]


class AlreadySaved(Exception):
    """A form's token was spent by a request that saved: answered by `already_saved`."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


async def already_saved(request: Request, exc: Exception) -> Response:
    """The exception handler for a double tap: to what the first tap saved, with a note."""
    assert isinstance(exc, AlreadySaved)
    flash(request, ALREADY_SAVED)
    return RedirectResponse(exc.location, status_code=303)


class FormOnce:
    """The claim of a posted form's one-time token, held by this request's transaction."""

    def __init__(self, request: Request, session: Session, claim_id: int | None) -> None:
        self.request, self.session = request, session
        self.claim_id = claim_id  # None: the form came without a token

    def saved(self, location: str, message: Message) -> RedirectResponse:
        """The form saved: remember where it landed (for a second tap), say so, go there."""
        self.remember(location)
        flash(self.request, message)
        return RedirectResponse(location, status_code=303)

    def remember(self, location: str) -> None:
        """Keep `location` as the token's outcome, committed with the change."""
        if self.claim_id is not None:
            idempotency.remember(self.session, self.claim_id, 303, "", location)


async def posted_form_token(request: Request) -> str | None:
    value = (await request.form()).get(csrf.ONCE_FIELD)
    return value if isinstance(value, str) and value else None


def form_once(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    token: Annotated[str | None, Depends(posted_form_token)],
) -> FormOnce:
    """Spend the posted form's token: a token that saved before raises AlreadySaved (the
    second tap lands on the saved record); one whose request saved nothing (its form was
    refused and shown again) may be tried again. A form without a token (a script's) is
    simply saved, as an API POST without an Idempotency-Key is."""
    if token is None:
        return FormOnce(request, session, None)
    nonce = csrf.form_token_nonce(request, principal, token)
    path = hashlib.sha256(f"{request.method} {request.url.path}".encode()).hexdigest()
    claim = idempotency.claim(session, principal.key, KEY_PREFIX + nonce, path)
    if claim.earlier is not None:
        if claim.earlier.request_hash != path:
            raise InvalidInput(
                Sentence(
                    "this form's token belongs to another form: reload the page and submit again"
                ),
                [FieldError(csrf.ONCE_FIELD, Sentence("belongs to another form"))],
            )
        if claim.earlier.location:
            raise AlreadySaved(claim.earlier.location)
    return FormOnce(request, session, claim.id)


# Declare it after the route's access check (Organizer, AdminUser): a visitor is sent to sign
# in before any token is looked at.
Once = Annotated[FormOnce, Depends(form_once)]


class EditForm(Protocol):
    """Draws an edit form again: with what was posted, and its errors or the stored values."""

    def __call__(
        self,
        status_code: int,
        *,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        conflict: dict[str, str] | None = None,
    ) -> Response: ...


def save_edit(
    once: FormOnce,
    record: Any,  # a versioned record
    form: dict[str, str],
    *,
    save: Callable[[], str],  # writes the change; the page to land on
    again: EditForm,
    stored: Callable[[], dict[str, str]],  # the record's editable fields, as the form shows them
    message: Message,
) -> Response:
    """An edit form's submit, as the API's PATCH with If-Match: if the record changed since
    the form was drawn, both versions side by side (409) rather than overwriting theirs; if
    the change is refused, the form with its errors (422) and nothing written; else the
    saved record's page."""
    if form.get("version") != str(record.version):
        return again(409, values=form, conflict=stored())
    try:
        with once.session.begin_nested():  # a refused form leaves nothing behind
            landing = save()
    except (ValidationError, AppError) as exc:
        once.session.refresh(record)
        return again(422, values=form, errors=field_errors(exc))
    return once.saved(landing, message)
