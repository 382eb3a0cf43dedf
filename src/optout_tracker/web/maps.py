"""The status map: `/`, `/states/{code}` and `/embed/map`, drawn in SVG on the server."""

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session

from .. import mapsvg
from ..clock import today
from ..enums import STATE_LEVEL, STATUS_LABELS, CampaignStatus, JurisdictionKind
from ..errors import NotFound
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..models import Jurisdiction
from ..schemas import ByFipsFilters, FipsStatus
from ..services import agencies, campaign, public
from ..services import jurisdictions as jurisdiction_service
from .templating import day, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])
View = Literal["counties", "states"]


@dataclass(frozen=True)
class Shape:
    """One area on the map: its outline, where it links, what its tooltip says."""

    d: str
    href: str | None
    status: CampaignStatus
    title: str


def _shapes(
    session: Session, view: View, outlines: mapsvg.MapShapes, state: str | None
) -> list[Shape]:
    """Join the outlines to the campaign status by FIPS, the way partners do with by-fips."""
    rows = campaign.by_fips(session, ByFipsFilters(state=state), state_level=view == "states")
    if view == "states":
        by_code = {r.fips[:2]: r for r in rows if r.kind in STATE_LEVEL}
        return [_shape(d, by_code.get(code)) for code, d in outlines.states.items()]
    by_fips = {r.fips: r for r in rows}
    return [_shape(d, by_fips.get(fips)) for fips, d in outlines.counties.items()]


def _shape(d: str, row: FipsStatus | None) -> Shape:
    if row is None:  # on the map, but not (or no longer) in the database
        return Shape(d, None, CampaignStatus.no_action, "Not tracked")
    title = f"{row.name}, {row.state}: {STATUS_LABELS[row.status]}"
    # Linked by FIPS, not slug: 3,142 short links keep the map page near the outlines' size.
    return Shape(d, f"/jurisdictions/{row.fips}", row.status, title)


def svg(
    outlines: mapsvg.MapShapes, shapes: list[Shape], label: str, new_tab: bool = False
) -> Markup:
    """The map as SVG markup: each area a link with a title, the borders on top.

    Built here rather than in a template loop: 3,142 areas render ten times faster.
    """
    target = ' target="_blank"' if new_tab else ""
    parts = [
        f'<svg class="map" viewBox="{outlines.view_box_attr}" role="group" '
        f'aria-labelledby="map-label"><title id="map-label">{escape(label)}</title>'
    ]
    for s in shapes:
        area = f'<path class="s-{s.status.value}" d="{s.d}"><title>{escape(s.title)}</title></path>'
        parts.append(f'<a href="{escape(s.href)}"{target}>{area}</a>' if s.href else area)
    parts.append(f'<path class="borders" d="{outlines.borders}"/></svg>')
    return Markup("".join(parts))


# Drawn maps by (view, state, label, tab, data version, day): the data version comes from the
# database, so every process sees a change at once. A few dozen entries at most.
_drawn: dict[tuple[Any, ...], tuple[Markup, dict[CampaignStatus, int]]] = {}


def draw(
    session: Session,
    view: View,
    outlines: mapsvg.MapShapes,
    state: str | None,
    label: str,
    new_tab: bool = False,
) -> tuple[Markup, dict[CampaignStatus, int]]:
    """The map's SVG and its counts per status, drawn once per change of the data."""
    key = (view, state, label, new_tab, campaign.data_version(session), today())
    if (drawn := _drawn.get(key)) is None:
        shapes = _shapes(session, view, outlines, state)
        drawn = svg(outlines, shapes, label, new_tab), _counts(shapes)
        if len(_drawn) > 64:
            _drawn.clear()
        _drawn[key] = drawn
    return drawn


def _counts(shapes: list[Shape]) -> dict[CampaignStatus, int]:
    counts = dict.fromkeys(CampaignStatus, 0)
    for shape in shapes:
        counts[shape.status] += 1
    return counts


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, principal: PrincipalDep, view: View = "counties"
) -> Response:
    map_svg, counts = draw(
        session, view, mapsvg.us_map(), None, f"Map of US {view} coloured by campaign status"
    )
    votes, activations = campaign.upcoming(session)
    return render(
        request,
        principal,
        "home.html",
        view=view,
        map_svg=map_svg,
        counts=counts,
        summary=campaign.summary(session),
        follow_up=campaign.follow_up(session),
        recent=campaign.recent_events(session),
        upcoming_votes=votes,
        upcoming_activations=activations,
        as_of=today(),
    )


@router.get("/states/{code}", response_class=HTMLResponse)
def state_page(
    request: Request, code: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    state = _state(session, code)
    label = f"Map of the counties of {state.name} by campaign status"
    outlines = mapsvg.state_map((state.fips or "")[:2])
    map_svg, counts = draw(session, "counties", outlines, state.state, label)
    j, status = jurisdiction_service.get(session, state.id or 0)
    return render(
        request,
        principal,
        "state.html",
        state=public.jurisdiction(j, status),
        map_svg=map_svg,
        counts=counts,
        sib=agencies.state_bureau(session, state.state),
        as_of=today(),
    )


@router.get("/embed/map", response_class=HTMLResponse)
def embed_map(
    request: Request, session: SessionDep, principal: PrincipalDep, view: View = "counties"
) -> Response:
    on = today()
    label = f"Map of US {view} coloured by opt-out status, as of {day(on)}"
    map_svg, counts = draw(session, view, mapsvg.us_map(), None, label, new_tab=True)
    return render(
        request,
        principal,
        "embed_map.html",
        map_svg=map_svg,
        counts=counts,
        as_of=on,
    )


def _state(session: Session, code: str) -> Jurisdiction:
    found = jurisdiction_service.state_jurisdiction(session, code.upper())
    if found is None or found.kind is JurisdictionKind.territory or not found.fips:
        raise NotFound(f"no state with the code {code!r}")
    return found
