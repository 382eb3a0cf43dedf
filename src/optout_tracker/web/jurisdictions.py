"""`/jurisdictions`: the list, the dossier, and the organizers' forms."""

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col

from ..enums import Access, AgencyKind, Channel, LetterPurpose, ResponseKind, VoteOutcome
from ..errors import AppError, NotFound
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep, SettingsDep
from ..models import Agency, AuditEntry, Jurisdiction
from ..schemas import (
    MAX_ID,
    JurisdictionFilters,
    JurisdictionUpdate,
    LetterCreate,
    PageParams,
    ResponseCreate,
    VoteCreate,
)
from ..security import Principal
from ..services import agencies, campaign, letters, public, responses, votes
from ..services import jurisdictions as service
from ..text_input import field_errors, parse
from .forms import FormData
from .templating import day, flash, gate, pager_links, render, words

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])
FORMS: dict[str, type[BaseModel]] = {
    "vote": VoteCreate,
    "letter": LetterCreate,
    "response": ResponseCreate,
}


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


DOSSIER_EVENTS = 50  # the dossier shows the latest events; earlier ones a page at a time
ANSWERABLE_LETTERS = 200  # the letters a logged response may answer, newest first


def _dossier_context(
    session: Session, slug: str, principal: Principal, offset: int | None = None
) -> dict[str, Any]:
    j, status = service.get_by_key(session, slug)
    shown = public.jurisdiction(j, status)
    jurisdiction_id = j.id or 0
    total = campaign.count_events(session, jurisdiction_id)
    latest = max(total - DOSSIER_EVENTS, 0)
    params = PageParams(limit=DOSSIER_EVENTS, offset=latest if offset is None else offset)
    agency_names = dict(session.execute(sa.select(col(Agency.id), col(Agency.name))).all())
    first_notice = campaign.first_notice_on(session, jurisdiction_id)
    history = list(
        session.scalars(
            sa.select(AuditEntry)
            .where(col(AuditEntry.jurisdiction_id) == j.id)
            .order_by(col(AuditEntry.id).desc())
            .limit(50)
        )
    )
    return {
        "j": shown if principal.can(Access.read) else shown.hide_private(),
        "timeline": campaign.events(session, jurisdiction_id, params, total),
        "params": params,
        "total": total,
        "agency_names": agency_names,
        # The program went live even though notice had been given before that day.
        "activated_despite": j.activated_on is not None
        and first_notice is not None
        and first_notice <= j.activated_on,
        "first_notice": first_notice,
        "sib": agencies.state_bureau(session, j.state),
        "ice": session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.ice)).first(),
        "correspondents": [
            (a.id, a.name)
            for a in session.scalars(sa.select(Agency).order_by(col(Agency.name)))
            if a.state in (None, j.state)  # national offices and this state's agencies
        ],
        "history": history,
        "can_write": principal.can(Access.write),
        "choices": {
            name: [(m.value, words(m.value)) for m in enum]
            for name, enum in (
                ("outcome", VoteOutcome),
                ("channel", Channel),
                ("purpose", LetterPurpose),
                ("kind", ResponseKind),
            )
        },
    }


@router.get("/jurisdictions/{slug}", response_class=HTMLResponse)
def dossier(
    request: Request,
    slug: str,
    session: SessionDep,
    principal: PrincipalDep,
    offset: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> Response:
    context = _dossier_context(session, slug, principal, offset)
    links = pager_links(request, context["params"], context["total"])
    return render(request, principal, "dossier.html", links=links, **context)


def _form_context(session: Session, slug: str, principal: Principal) -> dict[str, Any]:
    """The dossier's context, and the letters a logged response may answer."""
    context = _dossier_context(session, slug, principal)
    names = context["agency_names"]
    context["answerable"] = [
        (x.id, f"{day(x.sent_on)} to {names.get(x.agency_id, '?')}: {words(x.purpose)}")
        for x in campaign.latest_letters(session, context["j"].id, ANSWERABLE_LETTERS)
    ]
    return context


def _organizer(request: Request, principal: Principal) -> Response | None:
    return gate(request, principal, Access.write, "logging events needs the organizer role")


@router.get("/jurisdictions/{slug}/log/{kind}", response_class=HTMLResponse)
def event_form(
    request: Request, slug: str, kind: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    _form_model(kind)
    if redirect := _organizer(request, principal):
        return redirect
    context = _form_context(session, slug, principal)
    return render(request, principal, "event_form.html", kind=kind, values={}, errors={}, **context)


@router.post("/jurisdictions/{slug}/log/{kind}", response_class=HTMLResponse)
def log_event(
    request: Request,
    slug: str,
    kind: str,
    form: FormData,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:
    model = _form_model(kind)
    if redirect := _organizer(request, principal):
        return redirect
    j, _ = service.get_by_slug(session, slug)
    data = {**form, "jurisdiction_id": str(j.id)}
    try:
        with session.begin_nested():  # a refused form leaves nothing behind
            payload = parse(model, data)
            if isinstance(payload, VoteCreate):
                votes.create(session, payload, principal)
            elif isinstance(payload, LetterCreate):
                letters.create(session, payload, principal, settings.response_window_days)
            elif isinstance(payload, ResponseCreate):
                responses.create(session, payload, principal)
    except (ValidationError, AppError) as exc:
        context = _form_context(session, slug, principal)
        return render(
            request,
            principal,
            "event_form.html",
            status_code=422,
            kind=kind,
            values=form,
            errors=field_errors(exc),
            **context,
        )
    flash(request, f"The {kind} was logged.")
    return RedirectResponse(f"/jurisdictions/{slug}", status_code=303)


@router.get("/jurisdictions/{slug}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, slug: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    if redirect := _organizer(request, principal):
        return redirect
    j, _ = service.get_by_slug(session, slug)
    return render(request, principal, "jurisdiction_form.html", j=j, values=_editable(j), errors={})


@router.post("/jurisdictions/{slug}/edit", response_class=HTMLResponse)
def edit(
    request: Request, slug: str, form: FormData, session: SessionDep, principal: PrincipalDep
) -> Response:
    if redirect := _organizer(request, principal):
        return redirect
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


def _form_model(kind: str) -> type[BaseModel]:
    if kind not in FORMS:
        raise NotFound(f"there is no {kind!r} form: log a vote, a letter or a response")
    return FORMS[kind]
