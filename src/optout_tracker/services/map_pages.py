"""What the map pages show: `/` (the map and the campaign at a glance), a state's page,
and the embeddable map."""

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup
from sqlmodel import Session

from .. import mapsvg, statusmap
from ..clock import today
from ..enums import CampaignStatus, JurisdictionKind
from ..errors import NotFound
from ..models import Agency, Jurisdiction, Vote
from ..schemas import ByFipsFilters, JurisdictionPublic, StatusSummary, TimelineEntry
from ..statusmap import View
from ..wording import day
from . import agencies, campaign, jurisdictions, public


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


@dataclass(frozen=True)
class StatePage:
    state: JurisdictionPublic
    map_svg: Markup
    counts: dict[CampaignStatus, int]
    sib: Agency | None
    as_of: date


@dataclass(frozen=True)
class EmbeddedMap:
    map_svg: Markup
    counts: dict[CampaignStatus, int]
    as_of: date


def home(session: Session, view: View) -> HomePage:
    """The map, the counts by state, what needs following up, what happened, what is next."""
    drawn = _draw(
        session, view, mapsvg.us_map(), None, f"Map of US {view} coloured by campaign status"
    )
    votes, activations = campaign.upcoming(session)
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
    )


def state_page(session: Session, code: str) -> StatePage:
    """A state's record, the map of its counties and its identification bureau."""
    state = jurisdictions.state_jurisdiction(session, code.upper())
    if state is None or state.kind is JurisdictionKind.territory or not state.fips:
        raise NotFound(f"no state with the code {code!r}")
    label = f"Map of the counties of {state.name} by campaign status"
    drawn = _draw(session, "counties", mapsvg.state_map(state.fips[:2]), state.state, label)
    j, status = jurisdictions.get(session, state.id or 0)
    return StatePage(
        state=public.jurisdiction(j, status),
        map_svg=drawn.svg,
        counts=drawn.counts,
        sib=agencies.state_bureau(session, state.state),
        as_of=today(),
    )


def embedded_map(session: Session, view: View) -> EmbeddedMap:
    """The map alone, for other sites to frame: its links open in a new tab."""
    on = today()
    label = f"Map of US {view} coloured by opt-out status, as of {day(on)}"
    drawn = _draw(session, view, mapsvg.us_map(), None, label, new_tab=True)
    return EmbeddedMap(map_svg=drawn.svg, counts=drawn.counts, as_of=on)


def _draw(
    session: Session,
    view: View,
    outlines: mapsvg.MapShapes,
    state: str | None,
    label: str,
    new_tab: bool = False,
) -> statusmap.DrawnMap:
    """The map coloured by the statuses in the database, redrawn when they change (or the
    day does: overdue and activated depend on it)."""
    return statusmap.draw(
        view,
        outlines,
        lambda: campaign.by_fips(session, ByFipsFilters(state=state), state_level=view == "states"),
        label=label,
        version=(campaign.data_version(session), today()),
        area=state,
        new_tab=new_tab,
    )
