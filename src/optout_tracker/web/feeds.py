"""`/feeds/*.atom` (public changes, for feed readers) and `/calendar.ics` (dates ahead)."""

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import icalendar
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from .. import i18n
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep, SettingsDep
from ..schemas import CONTROL, StateCode
from ..services import activity, feeds
from ..services import jurisdictions as jurisdiction_service
from .templating import render

router = APIRouter(include_in_schema=False)
ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _atom(base: str, path: str, title: str, changes: list[feeds.Change]) -> Response:
    """An Atom 1.0 document (RFC 4287) of these changes."""
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: i18n.LOCALE.get()})
    _text(feed, "id", f"{base}{path}")
    _text(feed, "title", title)
    updated = max((c.at for c in changes), default=datetime(2008, 10, 27, tzinfo=UTC))
    _text(feed, "updated", updated.isoformat())
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}{path}")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "optout-tracker")
    for change in changes:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"{base}/feeds/activity.atom#change-{change.id}")  # permanent
        _text(entry, "title", change.title)
        _text(entry, "updated", change.at.isoformat())
        if change.jurisdiction is not None:
            href = f"{base}/jurisdictions/{change.jurisdiction.slug}"
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=href)
        _text(entry, "summary", change.summary or change.title)
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def _text(parent: ET.Element, tag: str, text: str) -> None:
    # Records from before input was checked (or from the CLI) must not break the XML.
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = CONTROL.sub("", text)


@router.get("/activity", response_class=HTMLResponse)
def activity_page(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    """The latest changes and the latest events, with the Atom and calendar twins."""
    return render(request, principal, "activity.html", page=activity.activity(session))


@router.get("/feeds/activity.atom")
def activity_feed(session: SessionDep, settings: SettingsDep) -> Response:
    changes = feeds.changes(session)
    return _atom(
        settings.base_url,
        "/feeds/activity.atom",
        i18n.gettext("Secure Communities opt-out campaigns: changes"),
        changes,
    )


@router.get("/feeds/jurisdictions/{slug}.atom")
def jurisdiction_feed(slug: str, session: SessionDep, settings: SettingsDep) -> Response:
    j, _ = jurisdiction_service.get_by_slug(session, slug)
    changes = feeds.changes(session, j.id)
    path = f"/feeds/jurisdictions/{j.slug}.atom"
    title = i18n.gettext("{place}: campaign changes").format(place=j.name)
    return _atom(settings.base_url, path, title, changes)


@router.get("/calendar.ics")
def calendar(
    session: SessionDep,
    settings: SettingsDep,
    state: Annotated[StateCode | None, Query()] = None,
) -> Response:
    """Scheduled votes, scheduled activations and answer deadlines, as iCalendar (RFC 5545)."""
    base = settings.base_url
    host = urlsplit(base).hostname or "localhost"
    cal = icalendar.Calendar()
    cal.add("prodid", "-//optout-tracker//Secure Communities opt-out campaigns//EN")
    cal.add("version", "2.0")
    if state:
        name = i18n.gettext("Opt-out campaigns in {state}").format(state=state)
    else:
        name = i18n.gettext("Opt-out campaigns")
    cal.add("x-wr-calname", name)
    for item in feeds.dates_ahead(session, state):
        event = icalendar.Event()
        event.add("uid", f"{item.uid}@{host}")
        event.add("dtstamp", item.stamp)
        event.add("dtstart", item.on)  # a date: an all-day event
        event.add("summary", item.title)
        if item.description:
            event.add("description", item.description)
        event.add("url", f"{base}/jurisdictions/{item.jurisdiction.slug}")
        cal.add_component(event)
    return Response(cal.to_ical(), media_type="text/calendar; charset=utf-8")
