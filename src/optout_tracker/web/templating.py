"""Jinja setup shared by the page routers, and the bits every page needs."""

import dataclasses
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from ..enums import STATUS_LABELS, Access, CampaignStatus
from ..http import csrf
from ..paths import TEMPLATES_DIR
from ..schemas import PageParams
from ..security import Principal
from ..wording import day, words

templates = Jinja2Templates(directory=TEMPLATES_DIR)  # autoescapes .html templates
templates.env.globals.update(
    csrf_token=csrf.csrf_token,
    status_labels=STATUS_LABELS,
    statuses=list(CampaignStatus),
    Access=Access,
)
templates.env.filters.update(day=day, words=words)


def flash(request: Request, message: str) -> None:
    """A one-time message for the next page, e.g. after a form redirects."""
    request.session["flash"] = message


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
        "base_url": request.app.state.settings.base_url.rstrip("/"),  # for absolute links
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None
) -> Response:
    """An error as a page in the site's style, for people (http/problems.py asks for it)."""
    context = {"status": status, "title": title, "detail": detail, "principal": None, "flash": None}
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )
