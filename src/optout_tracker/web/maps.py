"""The status map: `/`, `/states/{code}` and `/embed/map`, drawn in SVG on the server."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..services import map_pages
from ..statusmap import View
from .templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, principal: PrincipalDep, view: View = "counties"
) -> Response:
    return render(request, principal, "home.html", page=map_pages.home(session, view))


@router.get("/states/{code}", response_class=HTMLResponse)
def state_page(
    request: Request, code: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    return render(request, principal, "state.html", page=map_pages.state_page(session, code))


@router.get("/embed/map", response_class=HTMLResponse)
def embed_map(
    request: Request, session: SessionDep, principal: PrincipalDep, view: View = "counties"
) -> Response:
    return render(request, principal, "embed_map.html", page=map_pages.embedded_map(session, view))
