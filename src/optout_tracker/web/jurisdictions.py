"""`/jurisdictions`: the list, the dossier, and the organizers' forms."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from ..enums import Channel, LetterPurpose, ResponseKind, VoteOutcome, VoteTopic
from ..errors import AppError, NotFound
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep, SettingsDep
from ..models import Jurisdiction
from ..schemas import (
    LETTERS,
    MAX_ID,
    RESPONSES,
    VOTES,
    JurisdictionFilters,
    JurisdictionUpdate,
    RecordKind,
)
from ..services import dossier as dossiers
from ..services import jurisdictions as service
from ..services import kinds
from ..text_input import field_errors, parse
from ..wording import words
from .access import Organizer
from .forms import FormData
from .templating import flash, pager_links, render

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


# The options of the forms' choice fields, as (value, label).
CHOICES = {
    name: [(m.value, words(m.value)) for m in enum]
    for name, enum in (
        ("topic", VoteTopic),
        ("outcome", VoteOutcome),
        ("channel", Channel),
        ("purpose", LetterPurpose),
        ("kind", ResponseKind),
    )
}


@router.get("/jurisdictions/{slug}", response_class=HTMLResponse)
def dossier(
    request: Request,
    slug: str,
    session: SessionDep,
    principal: PrincipalDep,
    offset: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> Response:
    page = dossiers.dossier(session, slug, principal, offset)
    links = pager_links(request, page.params, page.total)
    return render(request, principal, "dossier.html", page=page, links=links, choices=CHOICES)


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
        choices=CHOICES,
    )


@router.post("/jurisdictions/{slug}/log/{kind}", response_class=HTMLResponse)
def log_event(
    request: Request,
    slug: str,
    kind: str,
    form: FormData,
    record_kind: FormKind,
    session: SessionDep,
    principal: Organizer,
    settings: SettingsDep,
) -> Response:
    j, _ = service.get_by_slug(session, slug)
    data = {**form, "jurisdiction_id": str(j.id)}
    try:
        with session.begin_nested():  # a refused form leaves nothing behind
            payload = parse(record_kind.create, data)
            window = settings.response_window_days
            kinds.create(session, record_kind, payload, principal, response_window_days=window)
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
            choices=CHOICES,
        )
    flash(request, f"The {kind} was logged.")
    return RedirectResponse(f"/jurisdictions/{slug}", status_code=303)


@router.get("/jurisdictions/{slug}/edit", response_class=HTMLResponse)
def edit_form(request: Request, slug: str, session: SessionDep, principal: Organizer) -> Response:
    j, _ = service.get_by_slug(session, slug)
    return render(request, principal, "jurisdiction_form.html", j=j, values=_editable(j), errors={})


@router.post("/jurisdictions/{slug}/edit", response_class=HTMLResponse)
def edit(
    request: Request, slug: str, form: FormData, session: SessionDep, principal: Organizer
) -> Response:
    j, _ = service.get_by_slug(session, slug)
    if form.get("version") != str(j.version):
        # Someone saved in between: show both versions instead of overwriting theirs.
        return render(
            request,
            principal,
            "jurisdiction_form.html",
            status_code=409,
            j=j,
            values=form,
            errors={},
            conflict=_editable(j),
        )
    try:
        with session.begin_nested():
            changes = parse(
                JurisdictionUpdate, {k: v for k, v in form.items() if k in EDITABLE}, partial=True
            )
            service.update(session, j, changes, principal)
    except (ValidationError, AppError) as exc:
        session.refresh(j)
        return render(
            request,
            principal,
            "jurisdiction_form.html",
            status_code=422,
            j=j,
            values=form,
            errors=field_errors(exc),
        )
    flash(request, "The jurisdiction was saved.")
    return RedirectResponse(f"/jurisdictions/{j.slug}", status_code=303)


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
