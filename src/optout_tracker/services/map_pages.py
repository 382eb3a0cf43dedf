"""What the map pages show: `/` (the map and the campaign at a glance), a state's page,
the embeddable map, and the map as a share card's picture (`/map.png`)."""

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Self
from urllib.parse import urlencode

from markupsafe import Markup
from pydantic import ConfigDict, StringConstraints, model_validator
from sqlmodel import Session

from .. import mapimage, mapsvg, statusmap
from ..clock import today
from ..enums import STATUS_LABELS, CampaignStatus, JurisdictionKind
from ..errors import NotFound
from ..models import Agency, Jurisdiction, Vote
from ..schemas import ByFipsFilters, Input, JurisdictionPublic, StatusSummary, TimelineEntry
from ..statusmap import View
from ..wording import day
from . import agencies, campaign, jurisdictions, public


class MapParams(Input):
    """Which map `/map.png` draws: the parameters of the page that shows it. Frozen, so the
    parameters themselves are the image's cache key (a new one, e.g. a date, joins it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    view: View = "counties"
    # A USPS code: that state's counties, as on /states/{code} (which also 404s a bad one).
    state: Annotated[str, StringConstraints(to_upper=True)] | None = None

    @model_validator(mode="after")
    def _a_state_by_counties(self) -> Self:
        if self.state is not None and self.view != "counties":
            raise ValueError("a state's map shows its counties: leave out view, or send counties")
        return self

    def query(self) -> str:
        """The parameters as a query string (`?state=CA`), those left at their default out."""
        sent = self.model_dump(exclude_defaults=True)
        return f"?{urlencode(sent)}" if sent else ""


@dataclass(frozen=True)
class ShareCard:
    """What a link to a page previews as (Open Graph and Twitter card tags): site paths,
    which the page makes absolute with the public base URL."""

    title: str
    description: str
    path: str
    image: str  # /map.png with the map's parameters
    image_width: int = mapimage.WIDTH
    image_height: int = mapimage.HEIGHT


@dataclass(frozen=True)
class HomePage:
    view: View
    map_svg: Markup
    counts: dict[CampaignStatus, int]
    summary: StatusSummary
    follow_up: list[JurisdictionPublic]
    recent: list[tuple[Jurisdiction, TimelineEntry]]
    upcoming_votes: list[tuple[Jurisdiction, Vote]]
    upcoming_activations: list[Jurisdiction]
    as_of: date
    share: ShareCard


@dataclass(frozen=True)
class StatePage:
    state: JurisdictionPublic
    map_svg: Markup
    counts: dict[CampaignStatus, int]
    sib: Agency | None
    as_of: date
    share: ShareCard


@dataclass(frozen=True)
class EmbeddedMap:
    map_svg: Markup
    counts: dict[CampaignStatus, int]
    as_of: date


def home(session: Session, view: View) -> HomePage:
    """The map, the counts by state, what needs following up, what happened, what is next."""
    drawn = _national_map(session, view)
    votes, activations = campaign.upcoming(session)
    params = MapParams(view=view)
    return HomePage(
        view=view,
        map_svg=drawn.svg,
        counts=drawn.counts,
        summary=campaign.summary(session),
        follow_up=campaign.follow_up(session),
        recent=campaign.recent_events(session),
        upcoming_votes=votes,
        upcoming_activations=activations,
        as_of=today(),
        share=ShareCard(
            title="Secure Communities opt-out campaigns",
            description=_counted(drawn.counts, view),
            path=f"/{params.query()}",
            image=f"/map.png{params.query()}",
        ),
    )


def state_page(session: Session, code: str) -> StatePage:
    """A state's record, the map of its counties and its identification bureau."""
    state = _mapped_state(session, code)
    drawn = _state_map(session, state)
    j, status = jurisdictions.get(session, state.id or 0)
    return StatePage(
        state=public.jurisdiction(j, status),
        map_svg=drawn.svg,
        counts=drawn.counts,
        sib=agencies.state_bureau(session, state.state),
        as_of=today(),
        share=ShareCard(
            title=f"{state.name}: Secure Communities opt-out campaigns",
            description=_counted(drawn.counts, "counties"),
            path=f"/states/{state.state}",
            image=f"/map.png{MapParams(state=state.state).query()}",
        ),
    )


def embedded_map(session: Session, view: View) -> EmbeddedMap:
    """The map alone, for other sites to frame: its links open in a new tab."""
    on = today()
    label = f"Map of US {view} coloured by opt-out status, as of {day(on)}"
    drawn = _draw(session, view, mapsvg.us_map(), None, label, new_tab=True)
    return EmbeddedMap(map_svg=drawn.svg, counts=drawn.counts, as_of=on)


def map_image(session: Session, params: MapParams) -> mapimage.Image:
    """The map of `params` as a share card's PNG, rendered again only when the data (or the
    day) changes; the same SVG as the page's, from the same cache."""
    state = _mapped_state(session, params.state) if params.state else None
    key: Hashable = (params, _version(session))
    if state is None:
        area = "county" if params.view == "counties" else "state"
        title = f"Secure Communities opt-out campaigns by {area}, {day(today())}"
        return mapimage.png(key, title, lambda: _national_map(session, params.view).svg)
    title = f"{state.name}: opt-out campaigns by county, {day(today())}"
    return mapimage.png(key, title, lambda: _state_map(session, state).svg)


def share_image(state: str, fips: str | None) -> str:
    """The share card picture of a page about a place: the map of its state where there is
    one (as /states/{code} has), else the country's."""
    on_map = fips is not None and fips[:2] in mapsvg.us_map().states
    return f"/map.png{MapParams(state=state).query()}" if on_map else "/map.png"


def _counted(counts: dict[CampaignStatus, int], view: View) -> str:
    """The legend in a sentence: 'Counties by campaign status, Dec 2, 2025: Denied 3, …'."""
    shown = ", ".join(
        f"{STATUS_LABELS[status]} {n:,}"
        for status, n in sorted(counts.items(), key=lambda item: -item[1])
        if n
    )
    return f"{view.capitalize()} by campaign status, {day(today())}: {shown}."


def _mapped_state(session: Session, code: str) -> Jurisdiction:
    """The state (or DC) with this USPS code, which has a map of its counties."""
    state = jurisdictions.state_jurisdiction(session, code.upper())
    if state is None or state.kind is JurisdictionKind.territory or not state.fips:
        raise NotFound(f"no state with the code {code!r}")
    return state


def _national_map(session: Session, view: View) -> statusmap.DrawnMap:
    label = f"Map of US {view} coloured by campaign status"
    return _draw(session, view, mapsvg.us_map(), None, label)


def _state_map(session: Session, state: Jurisdiction) -> statusmap.DrawnMap:
    label = f"Map of the counties of {state.name} by campaign status"
    outlines = mapsvg.state_map((state.fips or "")[:2])
    return _draw(session, "counties", outlines, state.state, label)


def _version(session: Session) -> Hashable:
    """What the maps are drawn from: the statuses in the database, and the day (overdue and
    activated depend on it)."""
    return (campaign.data_version(session), today())


def _draw(
    session: Session,
    view: View,
    outlines: mapsvg.MapShapes,
    state: str | None,
    label: str,
    new_tab: bool = False,
) -> statusmap.DrawnMap:
    """The map coloured by the statuses in the database, redrawn when they change."""
    return statusmap.draw(
        view,
        outlines,
        lambda: campaign.by_fips(session, ByFipsFilters(state=state), state_level=view == "states"),
        label=label,
        version=_version(session),
        area=state,
        new_tab=new_tab,
    )
