"""The national timeline's data on both databases: activations per month in one grouped
query, the running total, the announcements of every scope and the campaign events."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from optout_tracker import data_version, migrate
from optout_tracker.db import create_db_engine
from optout_tracker.enums import AgencyKind, AnnouncementEffect, CampaignStatus, ResponseKind
from optout_tracker.seed import seed
from optout_tracker.services import national_timeline
from tests import factories
from tests.conftest import DatabaseFactory, make_settings

SOURCE = "https://www.mercurynews.com/2010/09/28/santa-clara-county-supervisors-vote"


def story(session: Session) -> None:
    """A small national story: activations from Harris County in Oct 2008 to DC in 2012, a
    state's announcement, ICE's of Aug 2011, a later one, and three campaign events."""
    for fips, on in [
        ("48201", date(2008, 10, 27)),  # Harris County, TX
        ("51013", date(2010, 4, 1)),  # Arlington County, VA
        ("06085", date(2010, 5, 26)),  # Santa Clara County, CA
        ("06001", date(2010, 5, 26)),  # Alameda County, CA
        ("06075", date(2010, 6, 8)),  # San Francisco County, CA
        ("11001", date(2012, 6, 5)),  # the District of Columbia: a county-level area itself
        ("06", date(2010, 6, 21)),  # a state's own date: not a county, not counted
    ]:
        factories.activate(session, factories.jurisdiction(session, fips), on)
    ice = factories.agency(session, AgencyKind.ice)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    factories.announcement(
        session, sib, announced_on=date(2009, 4, 10), scope="CA",
        effect=AnnouncementEffect.none, title="California signs the MOA",
    )  # fmt: skip
    factories.announcement(session, ice)  # Aug 5, 2011: participation is mandatory
    factories.announcement(
        session, ice, announced_on=date(2017, 1, 25), effect=AnnouncementEffect.none,
        title="Executive Order 13768 restarts Secure Communities",
    )  # fmt: skip
    santa_clara = factories.jurisdiction(session, "06085")
    factories.letter(session, santa_clara, ice, sent_on=date(2010, 9, 28))
    factories.vote(session, santa_clara, held_on=date(2010, 9, 28), source_url=SOURCE)
    arlington = factories.jurisdiction(session, "51013")
    factories.response(session, arlington, ice, kind=ResponseKind.denied)  # Mar 1, 2011
    session.flush()


def test_activations_per_month_count_county_level_areas_in_one_query(
    session: Session, count_queries: Callable[[], Any]
) -> None:
    story(session)
    with count_queries() as q:
        per_month, areas = national_timeline.activations_per_month(session)
    assert q.count == 1
    assert per_month == {
        date(2008, 10, 1): 1,
        date(2010, 4, 1): 1,
        date(2010, 5, 1): 2,
        date(2010, 6, 1): 1,  # San Francisco; California's own date is not a county's
        date(2012, 6, 1): 1,
    }
    assert areas == 3142  # 3,141 counties and DC


def test_the_months_run_from_the_first_fact_to_the_last_mark_with_a_running_total(
    session: Session,
) -> None:
    story(session)
    page = national_timeline.gather(session)
    months = {m.start: m for m in page.months}
    assert page.months[0].start == date(2008, 10, 1)
    assert page.months[-1].start == date(2017, 1, 1)  # the latest announcement is on the axis
    assert len(page.months) == (2017 - 2008) * 12 + 1 - 9
    assert [(months[d].activated, months[d].total) for d in sorted(months)][:2] == [(1, 1), (0, 1)]
    assert (months[date(2010, 5, 1)].activated, months[date(2010, 5, 1)].total) == (2, 4)
    assert months[date(2012, 5, 1)].total == 5 and months[date(2012, 6, 1)].total == 6
    assert page.activated == 6 and page.areas == 3142
    assert page.busiest is not None and page.busiest.start == date(2010, 5, 1)
    assert months[date(2010, 5, 1)].href == "/?as_of=2010-05-31&layer=rollout"


def test_announcements_of_every_scope_and_the_events_in_date_order(session: Session) -> None:
    story(session)
    page = national_timeline.gather(session)
    said = [(h.on, h.kind, h.place.name if h.place else h.scope) for h in page.happenings]
    assert said == [
        (date(2009, 4, 10), "announcement", "CA"),
        (date(2010, 9, 28), "vote", "Santa Clara County"),  # a vote before a letter that day
        (date(2010, 9, 28), "letter", "Santa Clara County"),
        (date(2011, 3, 1), "response", "Arlington County"),
        (date(2011, 8, 5), "announcement", "national"),
        (date(2017, 1, 25), "announcement", "national"),
    ]
    vote, letter = page.happenings[1], page.happenings[2]
    assert vote.description == "Board of Supervisors voted 5–0 to opt out"
    assert vote.stage is CampaignStatus.vote_passed and vote.source == SOURCE
    assert vote.place is not None and (vote.place.state, vote.place.slug) == (
        "CA", "ca-santa-clara-county",
    )  # fmt: skip
    assert vote.map_href == "/?as_of=2010-09-28"  # the campaign layer, the map's default
    assert letter.description.startswith("Opt-out request sent to")
    ice = page.happenings[4]
    assert ice.effect is AnnouncementEffect.opt_out_denied and ice.scope == "national"
    assert ice.source == "https://www.ice.gov/secure-communities"
    assert ice.mark().turning and ice.mark().filled and ice.mark().row == "announcement"
    assert not page.happenings[0].mark().filled  # a state's announcement: hollow
    assert page.happenings[3].mark().title.startswith("Mar 1, 2011, Arlington County, VA: ")
    assert (page.announcements, page.events_total, page.events_shown) == (3, 3, 3)
    # Grouped by month for the table twin.
    assert [h.kind for h in page.by_month[date(2010, 9, 1)]] == ["vote", "letter"]


def test_the_events_are_capped_and_counted(session: Session) -> None:
    story(session)
    listed, total = national_timeline.happenings(session, limit=2)
    assert total == 3
    assert [h.kind for h in listed] == ["announcement", "vote", "letter", "announcement"] + [
        "announcement"
    ]


@pytest.mark.parametrize("events", [3, 30])
def test_the_queries_do_not_grow_with_the_events(
    session: Session, count_queries: Callable[[], Any], events: int
) -> None:
    story(session)
    marin = factories.jurisdiction(session, "06041")
    for i in range(events - 3):
        factories.vote(session, marin, held_on=date(2011, 1, 1 + i % 28))
    with count_queries() as q:
        page = national_timeline.gather(session)
    assert page.events_total == events
    assert q.count <= 10  # per kind of record, not per record


def test_the_page_is_kept_per_data_version(session: Session) -> None:
    national_timeline.forget()
    story(session)
    session.commit()  # what a transaction has not committed yet is kept for no one
    first = national_timeline.page(session)
    assert national_timeline.page(session) is first
    factories.activate(session, factories.jurisdiction(session, "06041"), date(2010, 9, 14))
    assert national_timeline.page(session) is not first
    session.commit()
    changed = national_timeline.page(session)
    assert changed is not first and changed.activated == first.activated + 1
    assert changed.share.description == (
        "7 of 3,142 counties activated from Oct 2008 to Jan 2017 (most in May 2010: 2);"
        " 3 announcements and 3 campaign events."
    )


def test_two_databases_alike_are_kept_apart(session: Session, databases: DatabaseFactory) -> None:
    """One process serving two databases (a demo beside the real one) that hold the same
    never answers one from the other's cache: each has a data version of its own."""
    other = create_db_engine(make_settings(databases.new_url()))
    try:
        migrate.upgrade(other)
        with Session(other) as twin:
            seed(twin)
            twin.commit()
            assert data_version.current(twin) != data_version.current(session)
    finally:
        other.dispose()


def test_an_empty_story(session: Session) -> None:
    page = national_timeline.gather(session)
    assert page.months == [] and page.happenings == [] and page.busiest is None
    assert "Nothing dated yet" in page.chart
    assert page.share.description == "No activation or event is dated yet."
