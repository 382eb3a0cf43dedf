"""/follow-up: the next steps of every open campaign, filterable by state and step."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..schemas import FollowUpFilters
from ..services import follow_up
from ..status import Step
from .templating import pager_links, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


@router.get("/follow-up", response_class=HTMLResponse)
def follow_up_page(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[FollowUpFilters, Query()],
) -> Response:
    items, total = follow_up.page(session, params)
    return render(
        request,
        principal,
        "follow_up.html",
        items=items,
        total=total,
        params=params,
        steps=list(Step),
        links=pager_links(request, params, total),
        json_url=f"/api/v1/follow-up?{request.url.query}",
    )
