"""/api/v1/follow-up: the next steps of every open campaign."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.deps import SessionDep
from ..schemas import FollowUpFilters, FollowUpItem, Page
from ..services import follow_up
from .conventions import page

router = APIRouter(prefix="/follow-up", tags=["follow-up"])


@router.get("")
def list_follow_up(
    request: Request,
    response: Response,
    session: SessionDep,
    params: Annotated[FollowUpFilters, Query()],
) -> Page[FollowUpItem]:
    """Every open campaign's next steps as of today, oldest first."""
    items, total = follow_up.page(session, params)
    return page(request, response, items, total, params)
