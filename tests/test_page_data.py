"""The pages' data, read from the services without HTTP: the map pages, the dossier,
/activity, the status map's cache and the page access rule."""

from datetime import date

import pytest
from sqlmodel import Session
from starlette.requests import Request

from optout_tracker import mapsvg, statusmap
from optout_tracker.enums import Access, ActorKind, CampaignStatus
from optout_tracker.errors import Forbidden, NotFound
from optout_tracker.schemas import ByFipsFilters, FipsStatus
from optout_tracker.security import ANONYMOUS, Principal
from optout_tracker.services import activity, campaign, dossier, map_pages
from optout_tracker.web.access import SignInFirst, require_page
from tests import factories

VIEWER = Principal(ActorKind.user, 1, "viewer@example.org", Access.read)


def test_the_status_map_reads_the_statuses_once_per_version(session: Session) -> None:
    outlines = mapsvg.state_map("06")
    reads: list[int] = []

    def statuses() -> list[FipsStatus]:
        reads.append(1)
        return campaign.by_fips(session, ByFipsFilters(state="CA"))

    def draw(version: object) -> statusmap.DrawnMap:
        label = "Map of the counties of California (test)"
        return statusmap.draw(
            "counties", outlines, statuses, label=label, version=version, area="CA"
        )

    version = object()  # unique: the cache outlives a test
    first = draw(version)
    assert draw(version) is first and len(reads) == 1
    assert draw(object()) == first and len(reads) == 2  # a new version is read again
    assert sum(first.counts.values()) == len(outlines.counties) == 58
    assert '<a href="/jurisdictions/06085"><path class="s-no_action"' in first.svg
    assert "<title>Santa Clara County, CA: " in first.svg


def test_the_home_page_counts_every_county_and_lists_recent_events_newest_first(
    session: Session,
) -> None:
    ice = factories.agency(session)
    santa_clara, alameda = factories.jurisdiction(session), factories.jurisdiction(session, "06001")
    factories.vote(session, santa_clara, held_on=date(2010, 9, 28))
    factories.letter(session, alameda, ice, sent_on=date(2010, 10, 7))
    page = map_pages.home(session, map_pages.MapQuery())
    counts = page.map.drawn.counts
    assert sum(counts.values()) == len(mapsvg.us_map().counties)
    assert counts[f"s-{CampaignStatus.vote_passed}"] >= 1
    assert [(j.name, e.type) for j, e in page.recent[:2]] == [
        ("Alameda County", "letter"),
        ("Santa Clara County", "vote"),
    ]
    assert page.map.drawn.svg.startswith('<svg class="map"') and page.map.params.view == "counties"


def test_a_state_page_is_for_states_only(session: Session) -> None:
    page = map_pages.state_page(session, "ca", map_pages.MapDay())
    assert page.state.name == "California" and sum(page.map.drawn.counts.values()) == 58
    for code in ("pr", "zz"):  # a territory, and no state at all
        with pytest.raises(NotFound):
            map_pages.state_page(session, code, map_pages.MapDay())


def test_the_embedded_map_opens_its_links_in_a_new_tab(session: Session) -> None:
    page = map_pages.embedded_map(session, map_pages.MapParams(view="states"))
    drawn = page.map.drawn
    assert 'target="_blank"' in drawn.svg and sum(drawn.counts.values()) >= 51


def test_the_dossier_shows_private_notes_to_readers_only(session: Session) -> None:
    j = factories.jurisdiction(session)
    j.private_notes = "Supervisor Chavez wants this off the record"
    session.flush()
    assert dossier.dossier(session, j.slug, VIEWER).j.private_notes == j.private_notes
    anonymous = dossier.dossier(session, "06085", ANONYMOUS)  # by FIPS code too
    assert anonymous.j.private_notes is None and not anonymous.can_write


def test_the_dossier_shows_the_latest_events_and_on_its_forms_the_letters_to_answer(
    session: Session,
) -> None:
    j, ice = factories.jurisdiction(session), factories.agency(session)
    for day in range(1, 29):
        factories.letter(session, j, ice, sent_on=date(2010, 9, day))
        factories.vote(session, j, held_on=date(2010, 9, day))
    page = dossier.dossier(session, j.slug, VIEWER)
    assert page.total == 56 and page.params.offset == 6 and len(page.timeline) == 50
    assert page.timeline[-1].date == date(2010, 9, 28) and page.answerable == []
    assert page.first_notice == date(2010, 9, 1)
    forms = dossier.dossier(session, j.slug, VIEWER, forms=True)
    assert forms.answerable[0][1] == f"Sep 28, 2010 to {ice.name}: opt out request"
    assert len(forms.answerable) == 28


def test_activity_lists_the_latest_events_of_every_jurisdiction(session: Session) -> None:
    j = factories.jurisdiction(session)
    for day in range(1, 29):
        factories.vote(session, j, held_on=date(2010, 9, day))
    page = activity.activity(session)
    days = [e.date for _, e in page.recent]
    assert len(days) == activity.EVENTS and days == sorted(days, reverse=True)


def _request(path: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "headers": []})


def test_pages_send_visitors_to_sign_in_and_refuse_users_without_access() -> None:
    check = require_page(Access.write, "logging events needs the organizer role")
    with pytest.raises(SignInFirst) as sent:
        check(_request("/jurisdictions/santa-clara-county-ca/edit"), ANONYMOUS)
    assert sent.value.location == "/login?next=%2Fjurisdictions%2Fsanta-clara-county-ca%2Fedit"
    with pytest.raises(Forbidden, match="organizer role"):
        check(_request("/jurisdictions/santa-clara-county-ca/edit"), VIEWER)
    organizer = Principal(ActorKind.user, 2, "organizer@example.org", Access.write)
    assert check(_request("/"), organizer) is organizer
