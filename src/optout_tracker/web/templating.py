"""Jinja setup shared by the page routers, and the bits every page needs."""

import dataclasses
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from .. import i18n, statusmap
from ..enums import STATUS_LABELS, Access, CampaignStatus
from ..errors import Message
from ..http import auth, csrf
from ..i18n import N_
from ..paths import TEMPLATES_DIR
from ..schemas import PageParams
from ..security import Principal
from ..services import follow_up
from ..wording import STEP_WORDS, day, long_day, month, number, words

# Autoescaped, as Starlette's own; {% trans %} and _() speak the request's language (i18n).
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, extensions=["jinja2.ext.i18n"]
)
_environment.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
)
templates = Jinja2Templates(env=_environment)


@pass_context
def form_tokens(context: Any) -> Markup:
    """The hidden fields of a form that writes: the session's CSRF token, and a new one-time
    token, so that a double tap saves once (forms.FormOnce)."""
    request, principal = context["request"], context["principal"]
    return Markup(
        '<input type="hidden" name="{}" value="{}">\n  <input type="hidden" name="{}" value="{}">'
    ).format(
        csrf.FORM_FIELD,
        csrf.csrf_token(request),
        csrf.ONCE_FIELD,
        csrf.form_token(request, principal),
    )


# Each language by its own name: the switch reads the same in every language.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def language_links(request: Request) -> list[tuple[str, str, str]]:
    """(code, name, link) of each language the site speaks: this page, in that language."""
    # An empty parameter is no filter (the page is the bare URL's): the links leave it out.
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang" and v]
    return [
        (code, LANGUAGE_NAMES[code], f"{request.url.path}?{urlencode([*query, ('lang', code)])}")
        for code in i18n.LOCALES
    ]


templates.env.globals.update(
    csrf_token=csrf.csrf_token,
    form_tokens=form_tokens,
    status_labels=i18n.Translated(STATUS_LABELS),
    statuses=list(CampaignStatus),
    map_labels=statusmap.LABELS,
    step_words=i18n.Translated(STEP_WORDS),
    follow_up_action=follow_up.action,
    map_categories=statusmap.CATEGORIES,  # each says its label in the answer's language
    map_despite=statusmap.DESPITE,
    Access=Access,
    current_locale=i18n.LOCALE.get,
    language_links=language_links,
)
templates.env.filters.update(day=day, long_day=long_day, month=month, number=number, words=words)


def flash(request: Request, message: Message) -> None:
    """A one-time message for the next page, e.g. after a form redirects: said in this
    request's language (the next page is the same reader's)."""
    request.session["flash"] = str(message)


def pager_links(request: Request, params: PageParams, total: int) -> dict[str, str]:
    """Links to the previous and next page of a list, where there is one, keeping the other
    query parameters."""
    offsets = {
        "prev": params.offset - params.limit if params.offset > 0 else None,
        "next": params.offset + params.limit if params.offset + params.limit < total else None,
    }
    return {
        rel: "?" + urlencode(dict(request.query_params) | {"offset": str(max(offset, 0))})
        for rel, offset in offsets.items()
        if offset is not None
    }


def render(
    request: Request,
    principal: Principal,
    name: str,
    status_code: int = 200,
    *,
    page: Any = None,
    **context: Any,
) -> Response:
    """The template `name` given the fields of `page` (a service's dataclass) and `context`."""
    if page is not None:
        context = {f.name: getattr(page, f.name) for f in dataclasses.fields(page)} | context
    context |= {
        "principal": principal,
        "flash": request.session.pop("flash", None),
        "base_url": request.app.state.settings.base_url,  # for absolute links
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


# The titles of the errors a page may show that are HTTP's own phrases (the others are the
# errors' titles, errors.py), marked for the catalog.
HTTP_TITLES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Conflict"),
    N_("Precondition Failed"),
    N_("Unprocessable Content"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
)


def error_page(
    request: Request, status: int, title: str, detail: Message, headers: dict[str, str] | None
) -> Response:
    """An error as a page in the site's style, for people (http/problems.py asks for it), in
    the page's language: its title from the catalog, its detail said as a Sentence."""
    context = {
        "status": status,
        "title": i18n.gettext(title),
        "detail": str(detail),
        "principal": auth.identified(request),  # the header still says who is signed in
        "flash": None,
    }
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )
