"""`/agencies`: the directory of who letters go to, each agency's record of letters and
answers, and the organizers' form for its contacts."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..enums import Access, AgencyKind
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import IdPath, SessionDep
from ..i18n import N_, Translated
from ..models import Agency
from ..schemas import AgencyFilters, AgencyUpdate
from ..security import Principal
from ..services import agencies as service
from ..text_input import parse
from .access import Organizer
from .forms import FormData, Once, save_edit
from .templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])

# The fields of the contacts form, as (name, label, input type), in the order shown.
EDITABLE = (
    ("name", "Name", "text"),
    ("email", "E-mail", "email"),
    ("fax", "Fax", "tel"),
    ("postal_address", "Postal address", "textarea"),
    ("website", "Website", "url"),
    ("contact_source_url", "Where these contacts were confirmed (web address)", "url"),
    ("contact_checked_on", "Checked there on", "date"),
    ("response_window_days", "Days it has to answer a letter", "number"),
    ("notes", "Notes", "textarea"),
)
CONTACT_LABELS = {name: label for name, label, _ in EDITABLE}
KIND_LABELS = Translated(
    {
        AgencyKind.ice: "ICE",
        AgencyKind.dhs: "DHS",
        AgencyKind.fbi: "FBI",
        AgencyKind.state_identification_bureau: N_("State identification bureaus"),
        AgencyKind.governor: N_("Governors"),
        AgencyKind.other: N_("Other agencies"),
    }
)


@router.get("/agencies", response_class=HTMLResponse)
def agency_list(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[AgencyFilters, Query()],
) -> Response:
    """The directory, grouped by kind, with how complete each one's contacts are."""
    groups = service.directory(session, params.kind, params.state)
    return render(
        request,
        principal,
        "agencies.html",
        groups=groups,
        params=params,
        kinds=KIND_LABELS,
        contacts=service.CONTACTS,
        contact_labels=CONTACT_LABELS,
    )


@router.get("/agencies/{agency_id}", response_class=HTMLResponse)
def agency_page(
    request: Request, agency_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> Response:
    """One agency: its contacts with their source, and the letters it received and answered."""
    agency = service.get(session, agency_id)
    return render(
        request,
        principal,
        "agency.html",
        agency=agency,
        stats=service.stats(session, agency_id),
        contacts=service.CONTACTS,
        contact_labels=CONTACT_LABELS,
        kinds=KIND_LABELS,
        can_edit=principal.can(Access.write),
    )


@router.get("/agencies/{agency_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, agency_id: IdPath, session: SessionDep, principal: Organizer
) -> Response:
    """The contacts form, filled with what is stored."""
    agency = service.get(session, agency_id)
    return _form(request, principal, agency, values=_editable(agency))


@router.post("/agencies/{agency_id}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    agency_id: IdPath,
    form: FormData,
    session: SessionDep,
    principal: Organizer,
    once: Once,
) -> Response:
    """Save the contacts as the API's PATCH does; a conflict view if they changed meanwhile."""
    agency = service.get(session, agency_id)

    def save() -> str:
        fields = {k: v for k, v in form.items() if k in CONTACT_LABELS}
        service.update(session, agency, parse(AgencyUpdate, fields, partial=True), principal)
        return f"/agencies/{agency.id}"

    return save_edit(
        once, agency, form, save=save, again=partial(_form, request, principal, agency),
        stored=lambda: _editable(agency), message="The agency was saved.",
    )  # fmt: skip


def _editable(agency: Agency) -> dict[str, str]:
    return {
        k: "" if getattr(agency, k) is None else str(getattr(agency, k)) for k in CONTACT_LABELS
    }


def _form(
    request: Request,
    principal: Principal,
    agency: Agency,
    status_code: int = 200,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    conflict: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        principal,
        "agency_form.html",
        status_code,
        agency=agency,
        fields=EDITABLE,
        labels=CONTACT_LABELS,
        values=values,
        errors=errors or {},
        conflict=conflict,
    )
