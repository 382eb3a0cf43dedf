"""`/jurisdictions`: the list, the dossier, and the organizers' forms."""

from datetime import date
from enum import StrEnum
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, SQLModel

from ..enums import Access, Channel, LetterPurpose, ResponseKind, VoteOutcome, VoteTopic
from ..errors import AppError, Conflict, NotFound
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..models import AuditEntry, Jurisdiction
from ..schemas import (
    LETTERS,
    MAX_ID,
    RESPONSES,
    VOTES,
    JurisdictionFilters,
    JurisdictionPublic,
    JurisdictionUpdate,
    RecordKind,
)
from ..security import Principal
from ..services import campaign, follows, kinds, records, restore
from ..services import dossier as dossiers
from ..services import jurisdictions as service
from ..text_input import field_errors, parse
from ..wording import words
from .access import AdminUser, Organizer
from .forms import FormData, Once, save_edit
from .templating import pager_links, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])
FORMS = {kind.entity: kind for kind in (VOTES, LETTERS, RESPONSES)}  # a dossier's "Log …"


@router.get("/jurisdictions", response_class=HTMLResponse)
def jurisdiction_list(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[JurisdictionFilters, Query()],
) -> Response:
    items, total = service.list_(session, params)
    query = request.url.query
    return render(
        request,
        principal,
        "jurisdictions.html",
        items=items,
        total=total,
        params=params,
        links=pager_links(request, params, total),
        json_url=f"/api/v1/jurisdictions?{query}",
        csv_url=f"/api/v1/export/jurisdictions.csv?{query}",
    )


# The vocabularies of the forms' choice fields.
CHOICE_ENUMS: dict[str, type[StrEnum]] = {
    "topic": VoteTopic,
    "outcome": VoteOutcome,
    "channel": Channel,
    "purpose": LetterPurpose,
    "kind": ResponseKind,
}


def choices() -> dict[str, list[tuple[str, str]]]:
    """The options of the forms' choice fields, as (value, label): the labels in the
    language of the answer being made (so made for each answer, not once)."""
    return {name: [(m.value, words(m.value)) for m in enum] for name, enum in CHOICE_ENUMS.items()}


@router.get("/jurisdictions/{slug}", response_class=HTMLResponse)
def dossier(
    request: Request,
    slug: str,
    session: SessionDep,
    principal: PrincipalDep,
    offset: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    as_of: Annotated[date | None, Query()] = None,
) -> Response:
    page = dossiers.dossier(session, slug, principal, offset, as_of=as_of)
    links = pager_links(request, page.params, page.total)
    admin = principal.can(Access.admin)
    return render(
        request,
        principal,
        "dossier.html",
        page=page,
        links=links,
        choices=choices(),
        can_delete=admin,
        restorable=restore.restorable(session, page.history) if admin else set(),
        following=follows.following(session, principal, jurisdiction_id=page.j.id),
    )


def form_kind(kind: str) -> RecordKind:
    """The kind the `kind` form logs (a 404 for a kind that has none, before anything else)."""
    if kind not in FORMS:
        raise NotFound(f"there is no {kind!r} form: log a vote, a letter or a response")
    return FORMS[kind]


FormKind = Annotated[RecordKind, Depends(form_kind)]


# The kind is checked first: a form that does not exist is a 404 for everyone.
@router.get(
    "/jurisdictions/{slug}/log/{kind}",
    response_class=HTMLResponse,
    dependencies=[Depends(form_kind)],
)
def event_form(
    request: Request, slug: str, kind: str, session: SessionDep, principal: Organizer
) -> Response:
    page = dossiers.dossier(session, slug, principal, forms=True)
    return render(
        request,
        principal,
        "event_form.html",
        page=page,
        kind=kind,
        values={},
        errors={},
        choices=choices(),
    )


def event_url(j: Jurisdiction | JurisdictionPublic, kind: str, record: SQLModel) -> str:
    """Where a vote, letter or response is shown: its place on its jurisdiction's page."""
    return f"/jurisdictions/{j.slug}#{kind}-{getattr(record, 'id', '')}"


@router.post("/jurisdictions/{slug}/log/{kind}", response_class=HTMLResponse)
def log_event(
    request: Request,
    slug: str,
    kind: str,
    form: FormData,
    record_kind: FormKind,
    session: SessionDep,
    principal: Organizer,
    once: Once,
    settings: SettingsDep,
) -> Response:
    j, _ = service.get_by_slug(session, slug)
    data = {**form, "jurisdiction_id": str(j.id)}
    try:
        with session.begin_nested():  # a refused form leaves nothing behind
            payload = parse(record_kind.create, data)
            window = settings.response_window_days
            record = kinds.create(
                session, record_kind, payload, principal, response_window_days=window
            )
    except (ValidationError, AppError) as exc:
        return render(
            request,
            principal,
            "event_form.html",
            status_code=422,
            page=dossiers.dossier(session, slug, principal, forms=True),
            kind=kind,
            values=form,
            errors=field_errors(exc),
            choices=choices(),
        )
    return once.saved(event_url(j, kind, record), f"The {kind} was logged.")


@router.get("/jurisdictions/{slug}/edit", response_class=HTMLResponse)
def edit_form(request: Request, slug: str, session: SessionDep, principal: Organizer) -> Response:
    j, _ = service.get_by_slug(session, slug)
    return render(request, principal, "jurisdiction_form.html", j=j, values=_editable(j), errors={})


@router.post("/jurisdictions/{slug}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    slug: str,
    form: FormData,
    session: SessionDep,
    principal: Organizer,
    once: Once,
) -> Response:
    j, _ = service.get_by_slug(session, slug)

    def save() -> str:
        fields = {k: v for k, v in form.items() if k in EDITABLE}
        service.update(session, j, parse(JurisdictionUpdate, fields, partial=True), principal)
        return f"/jurisdictions/{j.slug}"

    def again(status_code: int, **view: Any) -> Response:
        return render(
            request, principal, "jurisdiction_form.html", status_code=status_code, j=j,
            **{"errors": {}, **view},
        )  # fmt: skip

    return save_edit(
        once, j, form, save=save, again=again, stored=lambda: _editable(j),
        message="The jurisdiction was saved.",
    )  # fmt: skip


EDITABLE = (
    "name",
    "population",
    "scheduled_activation_on",
    "activated_on",
    "public_notes",
    "private_notes",
    "ocd_id",
)


def _editable(j: Jurisdiction) -> dict[str, str]:
    return {k: "" if getattr(j, k) is None else str(getattr(j, k)) for k in EDITABLE}


# Editing, deleting and restoring a vote, letter or response: the same service functions as
# the API's PATCH, DELETE and POST (services/kinds.py), on the record's own URL.
RECORD = "/jurisdictions/{slug}/{kind}/{record_id}"


def _record(
    session: Session, slug: str, kind: str, record_id: int
) -> tuple[Jurisdiction, RecordKind, SQLModel]:
    """The jurisdiction and its record of this kind: a 404 for one filed elsewhere."""
    record_kind = form_kind(kind)
    j, _ = service.get_by_slug(session, slug)
    record = records.get(session, record_kind.model, record_id)
    if getattr(record, "jurisdiction_id", None) != j.id:
        raise NotFound(f"{j.name} has no {kind} with id {record_id}")
    return j, record_kind, record


def _editable_fields(record: SQLModel) -> dict[str, str]:
    """A record's fields as its form shows them (text; empty for none)."""
    values = record.model_dump(exclude={"id", "jurisdiction_id", "created_at", "updated_at"})
    return {k: "" if v is None else str(v) for k, v in values.items()}


def _record_form(
    request: Request,
    session: Session,
    principal: Principal,
    slug: str,
    kind: str,
    record: SQLModel,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The form of `kind` filled with a record to edit (`values`, `errors`, `conflict`)."""
    return render(
        request,
        principal,
        "event_form.html",
        status_code,
        page=dossiers.dossier(session, slug, principal, forms=True),
        kind=kind,
        record=record,
        choices=choices(),
        **{"values": _editable_fields(record), "errors": {}, **context},
    )


@router.get(f"{RECORD}/edit", response_class=HTMLResponse)
def edit_record_form(
    request: Request,
    slug: str,
    kind: str,
    record_id: IdPath,
    session: SessionDep,
    principal: Organizer,
) -> Response:
    """The form of a vote, letter or response, filled with what is stored."""
    _, _, record = _record(session, slug, kind, record_id)
    return _record_form(request, session, principal, slug, kind, record)


@router.post(f"{RECORD}/edit", response_class=HTMLResponse)
def edit_record(
    request: Request,
    slug: str,
    kind: str,
    record_id: IdPath,
    form: FormData,
    session: SessionDep,
    principal: Organizer,
    once: Once,
) -> Response:
    """Save an edit as the API's PATCH does; a conflict view if it changed meanwhile."""
    j, record_kind, record = _record(session, slug, kind, record_id)

    def save() -> str:
        kinds.update(
            session, record_kind, record, parse(record_kind.update, form, partial=True), principal
        )
        return event_url(j, kind, record)

    return save_edit(
        once, record, form, save=save,
        again=partial(_record_form, request, session, principal, slug, kind, record),
        stored=lambda: _editable_fields(record), message=f"The {kind} was saved.",
    )  # fmt: skip


def _delete_page(
    request: Request,
    session: Session,
    principal: Principal,
    j: Jurisdiction,
    kind: str,
    record: SQLModel,
    status_code: int = 200,
    refusal: str | None = None,
) -> Response:
    """What a delete would remove, in words, and the button that does it."""
    return render(
        request,
        principal,
        "confirm_delete.html",
        status_code,
        j=j,
        kind=kind,
        record=record,
        event=campaign.entry(session, kind, getattr(record, "id", 0)),
        refusal=refusal,
    )


@router.get(f"{RECORD}/delete", response_class=HTMLResponse)
def delete_record_form(
    request: Request,
    slug: str,
    kind: str,
    record_id: IdPath,
    session: SessionDep,
    principal: AdminUser,
) -> Response:
    """What deleting the record would remove, in words, and the button that does it."""
    j, _, record = _record(session, slug, kind, record_id)
    return _delete_page(request, session, principal, j, kind, record)


@router.post(f"{RECORD}/delete", response_class=HTMLResponse)
def delete_record(
    request: Request,
    slug: str,
    kind: str,
    record_id: IdPath,
    session: SessionDep,
    principal: AdminUser,
    once: Once,
) -> Response:
    """Delete as the API's DELETE does; its refusal (409) is shown on the page."""
    j, record_kind, record = _record(session, slug, kind, record_id)
    try:
        with session.begin_nested():
            kinds.delete(session, record_kind, record, principal)
    except Conflict as exc:  # e.g. a letter that responses answer: said on the page
        return _delete_page(request, session, principal, j, kind, record, 409, exc.detail)
    message = f"The {kind} was deleted. It can be restored from the change history."
    return once.saved(f"/jurisdictions/{j.slug}#history", message)


@router.post("/jurisdictions/{slug}/history/{entry_id}/restore", response_class=HTMLResponse)
def restore_record(
    slug: str,
    entry_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: AdminUser,
    once: Once,
) -> Response:
    """Create a deleted record again from its audit entry, under a new id (admins)."""
    j, _ = service.get_by_slug(session, slug)
    entry = session.get(AuditEntry, entry_id)
    if entry is None or entry.jurisdiction_id != j.id:
        raise NotFound(f"{j.name}'s history has no entry {entry_id}")
    window = settings.response_window_days
    kind, record = restore.restore(session, entry_id, principal, response_window_days=window)
    new_id = getattr(record, "id", 0)
    message = f"The {kind.entity} was restored, as {kind.entity} {new_id}."
    return once.saved(event_url(j, kind.entity, record), message)
