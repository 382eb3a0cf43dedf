"""`/jurisdictions/new`: organizers add a city (counties and states come with the reference
data)."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..enums import JurisdictionKind
from ..errors import AppError
from ..http import csrf
from ..http.deps import SessionDep
from ..i18n import Sentence
from ..schemas import JurisdictionCreate
from ..services import jurisdictions as service
from ..text_input import field_errors, parse
from .access import Organizer
from .forms import FormData, Once
from .templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])
FIELDS = ("name", "state", "fips", "ocd_id")  # what the form asks; the kind is a city


@router.get("/jurisdictions/new", response_class=HTMLResponse)
def city_form(request: Request, session: SessionDep, principal: Organizer) -> Response:
    """The form that adds a city (?state=CA picks the state)."""
    values = {"state": request.query_params.get("state", "").upper()}
    return _form(request, principal, session, values, {})


@router.post("/jurisdictions/new", response_class=HTMLResponse)
def add_city(
    request: Request, form: FormData, session: SessionDep, principal: Organizer, once: Once
) -> Response:
    """Add the city; its page opens."""
    data = {name: form.get(name, "") for name in FIELDS} | {"kind": JurisdictionKind.city}
    try:
        with session.begin_nested():  # a refused form leaves nothing behind
            city = service.create(session, parse(JurisdictionCreate, data), principal)
    except (ValidationError, AppError) as exc:
        return _form(request, principal, session, form, field_errors(exc), status_code=422)
    added = Sentence("{name}, {state} was added.", name=city.name, state=city.state)
    return once.saved(f"/jurisdictions/{city.slug}", added)


def _form(
    request: Request,
    principal: Organizer,
    session: SessionDep,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        principal,
        "city_form.html",
        status_code,
        values=values,
        errors=errors,
        states=service.state_choices({JurisdictionKind.state}),
    )
