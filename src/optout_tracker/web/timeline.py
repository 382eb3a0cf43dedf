"""The national timeline: activations per month, announcements and campaign events."""

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, Response

from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..services import national_timeline
from .templating import render

# The story changes only with the records: a few minutes' staleness, the ETag revalidates.
MAX_AGE = 300

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


@router.get("/timeline", response_class=HTMLResponse)
def timeline(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The national story: counties activated per month, announcements, campaign events."""
    page = national_timeline.page(session)
    response = render(request, principal, "timeline.html", page=page)
    # Tagged by what was sent (the page says who is signed in, too), so a held copy is 304.
    etag = f'W/"{hashlib.sha256(bytes(response.body)).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE}"}
    held = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")}
    if etag.removeprefix("W/") in held or "*" in held:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
