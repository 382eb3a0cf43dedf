"""What the map pages show: `/` (the map and the campaign at a glance), a state's page,
the embeddable map, and the map as a share card's picture (`/map.png`)."""

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlencode

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from sqlmodel import Session

from .. import data_version, mapimage, mapsvg, statusmap
from ..clock import today
from ..enums import JurisdictionKind
from ..errors import NotFound
from ..i18n import N_, gettext
from ..models import Agency, Jurisdiction, Vote
from ..schemas import (
    AsOf,
    ByFipsFilters,
    FollowUpItem,
    JurisdictionFilters,
    JurisdictionPublic,
    QueryInput,
    StatusSummary,
    SummaryFilters,
    TimelineEntry,
)
from ..statusmap import Layer, View
from ..wording import day, month, number
from . import agencies, campaign, follow_up, jurisdictions, public, status_as_of

HOME_FOLLOW_UP = 10  # next steps the home page lists; /follow-up has them all
CITIES = 100  # listed on a state's page; its jurisdictions list has them all

# What a map is, in words, by what it shows ("state": a state's counties) and its layer: whole
# sentences for the catalog, said in the reader's language where shown.
Shown = tuple[Literal["counties", "states", "state"], Layer]
MAP_LABELS: dict[Shown, str] = {  # the SVG's <title>, which names the map for screen readers
    ("counties", "campaign"): N_("Map of US counties by campaign status, {date}"),
    ("counties", "rollout"): N_("Map of US counties by rollout of Secure Communities, {date}"),
    ("states", "campaign"): N_("Map of US states by campaign status, {date}"),
    ("states", "rollout"): N_("Map of US states by rollout of Secure Communities, {date}"),
    ("state", "campaign"): N_("Map of the counties of {state} by campaign status, {date}"),
    ("state", "rollout"): N_(
        "Map of the counties of {state} by rollout of Secure Communities, {date}"
    ),
}
PICTURE_TITLES: dict[Shown, str] = {  # the title line of /map.png
    ("counties", "campaign"): N_("Secure Communities by county, opt-out campaigns, {date}"),
    ("counties", "rollout"): N_("Secure Communities by county, rollout, {date}"),
    ("states", "campaign"): N_("Secure Communities by state, opt-out campaigns, {date}"),
    ("states", "rollout"): N_("Secure Communities by state, rollout, {date}"),
    ("state", "campaign"): N_("{state}: by county, opt-out campaigns, {date}"),
    ("state", "rollout"): N_("{state}: by county, rollout, {date}"),
}
COUNTED: dict[tuple[View, Layer], str] = {  # the legend in a sentence (a share card's)
    ("counties", "campaign"): N_("Counties by campaign status, {date}: {counts}."),
    ("counties", "rollout"): N_("Counties by rollout of Secure Communities, {date}: {counts}."),
    ("states", "campaign"): N_("States by campaign status, {date}: {counts}."),
    ("states", "rollout"): N_("States by rollout of Secure Communities, {date}: {counts}."),
}


class MapDay(QueryInput):
    """The day and layer of a map: what every map page takes. Frozen, so that the parameters
    themselves are a drawing's cache key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: AsOf = None
    layer: Layer = Field(
        "campaign",
        description="campaign: the campaign covering each area; rollout: where the program stood.",
    )

    def query(self, **changed: Any) -> str:
        """The parameters as a query string (`?as_of=2011-06-30`), those left at their
        default out; `changed` replaces some first."""
        sent = self.model_copy(update=changed).model_dump(mode="json", exclude_defaults=True)
        sent = {k: v for k, v in sent.items() if v is not None}
        return f"?{urlencode(sent)}" if sent else ""

    @property
    def on(self) -> date:
        return self.as_of or today()


class MapQuery(MapDay):
    """The country's map: by counties or by states."""

    view: View = "counties"


class MapParams(MapQuery):
    """Which map `/map.png` and `/embed/map` draw: the country's, or a state's counties."""

    # A USPS code: that state's counties, as on /states/{code} (which also 404s a bad one).
    state: Annotated[str, StringConstraints(to_upper=True)] | None = None

    @model_validator(mode="after")
    def _a_state_by_counties(self) -> Self:
        if self.state is not None and self.view != "counties":
            raise ValueError("a state's map shows its counties: leave out view, or send counties")
        return self


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
class Step:
    """A day to step the map to, as a link (the slider of static/map.js steps the same)."""

    on: date
    label: str
    query: str
    current: bool


@dataclass(frozen=True)
class MapView:
    """A drawn map with what goes around it: its parameters, the days to step through and
    the share card's picture."""

    params: MapParams  # what is drawn
    links: MapDay  # what the page's own links carry (its parameters)
    drawn: statusmap.DrawnMap
    steps: list[Step]
    image: str  # /map.png with the same parameters

    @property
    def today(self) -> bool:
        return status_as_of.is_stored(self.params.as_of)


@dataclass(frozen=True)
class HomePage:
    map: MapView
    summary: StatusSummary
    follow_up: list[FollowUpItem]  # the first of today's next steps
    follow_up_total: int
    recent: list[tuple[Jurisdiction, TimelineEntry]]
    upcoming_votes: list[tuple[Jurisdiction, Vote]]
    upcoming_activations: list[Jurisdiction]
    share: ShareCard


@dataclass(frozen=True)
class StatePage:
    state: JurisdictionPublic
    map: MapView
    sib: Agency | None
    cities: list[JurisdictionPublic]  # the first page, by name (no outlines: not on the map)
    cities_total: int
    share: ShareCard


@dataclass(frozen=True)
class EmbeddedMap:
    map: MapView


def home(session: Session, params: MapQuery) -> HomePage:
    """The map as of a day, the counts by state; today's follow-up list, recent events and
    what is next."""
    shown = _map_view(session, MapParams(**params.model_dump()), params)
    votes, activations = campaign.upcoming(session)
    waiting = follow_up.items(session)
    return HomePage(
        map=shown,
        summary=campaign.summary(session, SummaryFilters(as_of=params.as_of)),
        follow_up=waiting[:HOME_FOLLOW_UP],
        follow_up_total=len(waiting),
        recent=campaign.recent_events(session),
        upcoming_votes=votes,
        upcoming_activations=activations,
        share=ShareCard(
            title=gettext("Secure Communities opt-out campaigns"),
            description=_counted(shown.drawn, params.view, params.on),
            path=f"/{params.query()}",
            image=shown.image,
        ),
    )


def state_page(session: Session, code: str, params: MapDay) -> StatePage:
    """A state's record as of a day, the map of its counties and its identification bureau."""
    state = _mapped_state(session, code)
    shown = _map_view(session, MapParams(state=state.state, **params.model_dump()), params)
    j, status, _ = jurisdictions.read(session, state.id or 0, params.as_of)
    city_filter = JurisdictionFilters(
        state=state.state, kind=JurisdictionKind.city, as_of=params.as_of, limit=CITIES
    )
    cities, cities_total = jurisdictions.list_(session, city_filter)
    return StatePage(
        state=public.jurisdiction(j, status, params.on),
        map=shown,
        sib=agencies.state_bureau(session, state.state),
        cities=cities,
        cities_total=cities_total,
        share=ShareCard(
            title=gettext("{state}: Secure Communities opt-out campaigns").format(state=state.name),
            description=_counted(shown.drawn, "counties", params.on),
            path=f"/states/{state.state}{params.query()}",
            image=shown.image,
        ),
    )


def embedded_map(session: Session, params: MapParams) -> EmbeddedMap:
    """The map alone, for other sites to frame: its links open in a new tab."""
    return EmbeddedMap(_map_view(session, params, params, new_tab=True))


def map_image(session: Session, params: MapParams) -> mapimage.Image:
    """The map of `params` as a share card's PNG, rendered again only when the data (or the
    day) changes; the same SVG as the page's, from the same cache."""
    drawn = _map_view(session, params, params).drawn
    state = _mapped_state(session, params.state).name if params.state else ""
    title = gettext(PICTURE_TITLES[_shown(params)]).format(state=state, date=day(params.on))
    return mapimage.png(_version(session), params, title, lambda: drawn.svg)


def share_image(state: str, fips: str | None) -> str:
    """The share card picture of a page about a place: the map of its state where there is
    one (as /states/{code} has), else the country's."""
    on_map = fips is not None and fips[:2] in mapsvg.us_map().states
    return f"/map.png{MapParams(state=state).query()}" if on_map else "/map.png"


def _counted(drawn: statusmap.DrawnMap, view: View, on: date) -> str:
    """The legend in a sentence: 'Counties by campaign status, Dec 2, 2025: Denied 3, …'."""
    shown = ", ".join(
        gettext("{category} {count}").format(category=statusmap.LABELS[key], count=number(n))
        for key, n in sorted(drawn.counts.items(), key=lambda item: -item[1])
        if n
    )
    return gettext(COUNTED[view, drawn.layer]).format(date=day(on), counts=shown)


def _shown(params: MapParams) -> Shown:
    return ("state" if params.state else params.view, params.layer)


def _mapped_state(session: Session, code: str) -> Jurisdiction:
    """The state (or DC) with this USPS code, which has a map of its counties."""
    state = jurisdictions.state_jurisdiction(session, code.upper())
    if state is None or state.kind is JurisdictionKind.territory or not state.fips:
        raise NotFound(f"no state with the code {code!r}")
    return state


def _map_view(session: Session, params: MapParams, links: MapDay, new_tab: bool = False) -> MapView:
    """The map of `params` (the country's, or a state's counties), drawn from the statuses as
    of its day, redrawn when the data changes; its page's links carry `links`."""
    if params.state:
        state = _mapped_state(session, params.state)
        outlines = mapsvg.state_map((state.fips or "")[:2])
        name = state.name
    else:
        outlines, name = mapsvg.us_map(), ""
    label = gettext(MAP_LABELS[_shown(params)]).format(state=name, date=day(params.on))
    filters = ByFipsFilters(state=params.state, as_of=params.as_of)
    version = _version(session)
    drawn = statusmap.draw(
        params.view,
        outlines,
        lambda: campaign.by_fips(session, filters, state_level=params.view == "states"),
        label=label,
        version=version,  # the day, when not today, is in the label
        layer=params.layer,
        area=params.state,
        new_tab=new_tab,
    )
    steps = _steps(session, links, version)
    return MapView(params, links, drawn, steps, f"/map.png{params.query()}")


def _version(session: Session) -> Hashable:
    """What the maps are drawn from: the data in the database, and the day (overdue and
    activated depend on it when a map is of today)."""
    return (data_version.current(session), today())


# The days to step through, of the data version.
_spans: data_version.Kept[None, tuple[tuple[date, date] | None]] = data_version.Kept(most=1)


def _steps(session: Session, params: MapDay, version: Hashable) -> list[Step]:
    """The end of each quarter from the first dated fact to the last that changed a status
    or an activation, that last day itself, and today."""
    if (found := _spans.get(version, None)) is None:
        found = (campaign.story_span(session),)  # in a tuple: a span of None is kept too
        _spans.put(version, None, found)
    span = found[0]
    days = quarter_ends(*span) if span else []
    days = [d for d in days if d < today()]
    steps = [
        Step(
            d,
            day(d) if span and d == span[1] else month(d),
            params.query(as_of=d),
            params.as_of == d,
        )
        for d in days
    ]
    steps.append(
        Step(today(), gettext("Today"), params.query(as_of=None), params.as_of in (None, today()))
    )
    return steps


def _quarter_end(d: date) -> date:
    month = (d.month - 1) // 3 * 3 + 3
    following = date(d.year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def quarter_ends(first: date, last: date) -> list[date]:
    """Each quarter's last day from `first`'s quarter on while before `last`, then `last`."""
    days, d = [], _quarter_end(first)
    while d < last:
        days.append(d)
        d = _quarter_end(d + timedelta(days=1))
    return [*days, last]
