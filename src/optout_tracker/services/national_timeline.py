"""The national story for `/timeline`: counties activated per month and in total, the
announcements and the campaign events, each linking to the map as of its date.

Gathered in a few queries and drawn (timelinechart.py) once per data version: the past
changes only when the records do.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqlmodel import Session, col

from .. import data_version, i18n, timelinechart
from ..enums import AnnouncementEffect, CampaignStatus, JurisdictionKind
from ..i18n import gettext, ngettext
from ..models import Announcement, Jurisdiction
from ..schemas import NATIONAL, TimelineEntry
from ..statusmap import Layer
from ..timelinechart import Mark, Month, month_start
from ..wording import day, number
from . import campaign
from .map_pages import MapDay, MapParams, ShareCard

J = Jurisdiction

# What the chart counts: the county-level areas of the map (DC has no counties of its own).
AREAS = (JurisdictionKind.county, JurisdictionKind.federal_district)
# Campaign events listed and marked at most, oldest first; the page says how many more.
MAX_EVENTS = 500
PATH = "/timeline"


@dataclass(frozen=True)
class Place:
    """Where a campaign event happened, as its link says it."""

    name: str
    state: str
    slug: str


@dataclass(frozen=True)
class Happening:
    """An announcement or a campaign event, as the list and the table say it and the chart
    marks it: public fields only (the page is cached for everyone)."""

    on: date
    kind: str  # vote, letter, response or announcement
    description: str
    stage: CampaignStatus | None
    place: Place | None  # whose event; None for an announcement
    scope: str | None  # an announcement's: national or a state's code
    effect: AnnouncementEffect | None
    summary: str | None
    source: str | None
    map_href: str  # the map as of its date, on the campaign layer

    @property
    def month(self) -> date:
        return month_start(self.on)

    def mark(self) -> Mark:
        if self.place is None:
            return Mark(
                self.on,
                "announcement",
                gettext("{date}: {event}").format(date=day(self.on), event=self.description),
                self.map_href,
                filled=self.scope == NATIONAL,
                turning=self.effect not in (None, AnnouncementEffect.none),
            )
        said = gettext("{date}, {name}, {state}: {event}").format(
            date=day(self.on),
            name=self.place.name,
            state=self.place.state,
            event=self.description,
        )
        return Mark(
            self.on,
            "event",
            said,
            self.map_href,
            filled=self.stage is not None,
        )


@dataclass(frozen=True)
class TimelinePage:
    chart: Markup
    months: list[Month]
    happenings: list[Happening]  # date order
    by_month: dict[date, list[Happening]]
    areas: int  # county-level areas tracked
    activated: int  # of them, with an activation date
    events_total: int  # campaign events recorded (happenings hold the first MAX_EVENTS)
    events_shown: int
    announcements: int
    busiest: Month | None  # the month with the most activations (the first such)
    share: ShareCard


def map_link(on: date, layer: Layer) -> str:
    """The map as of a day, on a layer: '/?as_of=2011-08-05&layer=campaign'."""
    return f"/{MapDay(as_of=on, layer=layer).query()}"


def activations_per_month(session: Session) -> tuple[dict[date, int], int]:
    """Areas activated in each month (keyed by its first day), in one grouped query, and how
    many areas there are."""
    on = col(J.activated_on)
    year, month = sa.extract("year", on), sa.extract("month", on)
    rows = session.execute(
        sa.select(year, month, sa.func.count()).where(col(J.kind).in_(AREAS)).group_by(year, month)
    ).all()
    per_month = {date(int(y), int(m), 1): n for y, m, n in rows if y is not None}
    return per_month, sum(n for *_, n in rows)


def happenings(session: Session, limit: int = MAX_EVENTS) -> tuple[list[Happening], int]:
    """Every announcement (national and each state's) and the first `limit` campaign
    events (votes, letters, responses) in date order, and how many events there are."""
    events = sa.union_all(
        *(
            sa.select(
                col(on).label("day"),
                sa.literal_column(str(rank)).label("rank"),
                col(model.id).label("id"),
            )
            for _, model, on, rank in campaign.EVENT_KINDS
        )
    ).subquery()
    total = session.scalar(sa.select(sa.func.count()).select_from(events)) or 0
    first = session.execute(
        sa.select(events.c.day, events.c.rank, events.c.id)
        .order_by(events.c.day, events.c.rank, events.c.id)
        .limit(limit)
    ).all()
    said = session.execute(sa.select(col(Announcement.announced_on), col(Announcement.id)))
    rank = campaign.ANNOUNCEMENT_RANK
    rows = sorted([*((d, r, i) for d, r, i in first), *((d, rank, i) for d, i in said)])
    keys = [(campaign.KIND_OF_RANK[rank], record_id) for _, rank, record_id in rows]
    entries = campaign._entries(session, keys)
    places = _places(session, [e for e in entries.values() if e.type != "announcement"])
    found = [_happening(entries[key], places) for key in keys if key in entries]
    return found, total


def _places(session: Session, entries: list[TimelineEntry]) -> dict[int, Place]:
    wanted = {getattr(e.record, "jurisdiction_id", 0) for e in entries}
    rows = session.execute(
        sa.select(col(J.id), col(J.name), col(J.state), col(J.slug)).where(col(J.id).in_(wanted))
    ).all()
    return {i: Place(name, state, slug) for i, name, state, slug in rows}


def _happening(entry: TimelineEntry, places: dict[int, Place]) -> Happening:
    record: Any = entry.record
    if entry.type == "announcement":
        return Happening(
            on=entry.date,
            kind=entry.type,
            description=entry.description,
            stage=None,
            place=None,
            scope=record.scope,
            effect=record.effect,
            summary=record.summary,
            source=record.source_url,
            map_href=map_link(entry.date, "campaign"),
        )
    return Happening(
        on=entry.date,
        kind=entry.type,
        description=entry.description,
        stage=entry.stage,
        place=places.get(record.jurisdiction_id),
        scope=None,
        effect=None,
        summary=getattr(record, "summary", None),
        source=getattr(record, "source_url", None) or getattr(record, "document_url", None),
        map_href=map_link(entry.date, "campaign"),
    )


def gather(session: Session) -> TimelinePage:
    """The page's figures, links, list and chart, from the records as they are now."""
    per_month, areas = activations_per_month(session)
    listed, events_total = happenings(session)
    # The story's span, stretched to every mark (an announcement after the last change).
    days = [*(campaign.story_span(session) or ()), *(h.on for h in listed)]
    span = (min(days), max(days)) if days else None
    months = timelinechart.months(per_month, span, lambda d: map_link(d, "rollout"))
    by_month: dict[date, list[Happening]] = defaultdict(list)
    for h in listed:
        by_month[h.month].append(h)
    activated = months[-1].total if months else 0
    announcements = sum(h.place is None for h in listed)
    shown = len(listed) - announcements
    title, description = _words(months, activated, areas, announcements, events_total)
    chart = timelinechart.svg(
        months, (h.mark() for h in listed), title=title, description=description
    )
    return TimelinePage(
        chart=chart,
        months=months,
        happenings=listed,
        by_month=dict(by_month),
        areas=areas,
        activated=activated,
        events_total=events_total,
        events_shown=shown,
        announcements=announcements,
        busiest=max(months, key=lambda m: m.activated, default=None),
        share=ShareCard(
            title=gettext("Secure Communities, month by month: the national timeline"),
            description=description,
            path=PATH,
            image=f"/map.png{MapParams(layer='rollout').query()}",
        ),
    )


def _words(
    months: list[Month], activated: int, areas: int, announcements: int, events: int
) -> tuple[str, str]:
    """The chart's title and its description in sentences (also the share card's)."""
    if not months:
        return (
            gettext("The national timeline: nothing dated yet"),
            gettext("No activation or event is dated yet."),
        )
    first, last = months[0].label, months[-1].label
    title = gettext("Counties activated per month and in total, {first} to {last}").format(
        first=first, last=last
    )
    busiest = max(months, key=lambda m: m.activated)
    parts = {
        "activated": number(activated),
        "areas": number(areas),
        "first": first,
        "last": last,
        "busiest": busiest.label,
        "most": number(busiest.activated),
        "announcements": ngettext(
            "{count} announcement", "{count} announcements", announcements
        ).format(count=number(announcements)),
        "events": ngettext("{count} campaign event", "{count} campaign events", events).format(
            count=number(events)
        ),
    }
    if busiest.activated:
        said = gettext(
            "{activated} of {areas} counties activated from {first} to {last} (most in "
            "{busiest}: {most}); {announcements} and {events}."
        )
    else:
        said = gettext(
            "{activated} of {areas} counties activated from {first} to {last}; "
            "{announcements} and {events}."
        )
    return title, said.format(**parts)


# The page of the data version in each language (a write makes a new one): its words, the
# chart's included, are in the language it was gathered in.
_pages: data_version.Kept[str, TimelinePage] = data_version.Kept(most=len(i18n.LOCALES))


def page(session: Session) -> TimelinePage:
    """The national timeline as of the records now, gathered and drawn once per data
    version (it moves with every write)."""
    version = data_version.current(session)
    language = i18n.LOCALE.get()
    if (found := _pages.get(version, language)) is not None:
        return found
    built = gather(session)
    _pages.put(version, language, built)
    return built


def forget() -> None:
    """Drop the page kept: for tests, whose rolled-back writes may repeat a data version."""
    _pages.clear()
