"""The status map: `/`, `/states/{code}` and `/embed/map`, drawn in SVG on the server, and
`/map.png`, the same map as a share card's picture."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response

from .. import mapimage
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..services import follows, map_pages
from .templating import render

# Cards are fetched by link previewers: an hour's staleness at most, the ETag revalidates.
IMAGE_MAX_AGE = 3600

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[map_pages.MapQuery, Query()],
) -> Response:
    return render(request, principal, "home.html", page=map_pages.home(session, params))


@router.get("/states/{code}", response_class=HTMLResponse)
def state_page(
    request: Request,
    code: str,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[map_pages.MapDay, Query()],
) -> Response:
    page = map_pages.state_page(session, code, params)
    following = follows.following(session, principal, state=page.state.state)
    return render(request, principal, "state.html", page=page, following=following)


@router.get("/embed/map", response_class=HTMLResponse)
def embed_map(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[map_pages.MapParams, Query()],
) -> Response:
    page = map_pages.embedded_map(session, params)
    return render(request, principal, "embed_map.html", page=page)


@router.get("/map.png", response_class=Response)
def map_png(
    session: SessionDep,
    params: Annotated[map_pages.MapParams, Query()],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    image = map_pages.map_image(session, params)
    headers = {"ETag": image.etag, "Cache-Control": f"public, max-age={IMAGE_MAX_AGE}"}
    held = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")}
    if image.etag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    return Response(image.png, media_type=mapimage.MEDIA_TYPE, headers=headers)
