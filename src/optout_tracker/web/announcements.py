"""`/announcements/new`: the organizers' form for what ICE, DHS or a state said to all."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..errors import AppError
from ..http import csrf
from ..http.deps import SessionDep
from ..i18n import Sentence
from ..schemas import AnnouncementCreate
from ..services import announcements as service
from ..text_input import field_errors, parse
from .access import Organizer
from .forms import FormData, Once
from .templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


@router.get("/announcements/new", response_class=HTMLResponse)
def announcement_form(request: Request, session: SessionDep, principal: Organizer) -> Response:
    choices = service.form_choices(session)
    return render(request, principal, "announcement_form.html", page=choices, values={}, errors={})


@router.post("/announcements/new", response_class=HTMLResponse)
def log_announcement(
    request: Request, form: FormData, session: SessionDep, principal: Organizer, once: Once
) -> Response:
    try:
        with session.begin_nested():  # a refused form leaves nothing behind
            service.create(session, parse(AnnouncementCreate, form), principal)
    except (ValidationError, AppError) as exc:
        return render(
            request,
            principal,
            "announcement_form.html",
            status_code=422,
            page=service.form_choices(session),
            values=form,
            errors=field_errors(exc),
        )
    return once.saved("/announcements/new", Sentence("The announcement was logged."))
