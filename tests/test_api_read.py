"""The read API under /api/v1: lists, filters, paging, errors, ETags, status views, OpenAPI."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.clock import today
from optout_tracker.db_types import utcnow
from optout_tracker.enums import (
    AgencyKind,
    CampaignStatus,
    Channel,
    JurisdictionKind,
    LetterPurpose,
    ResponseKind,
    VoteOutcome,
)
from optout_tracker.history import load_history
from optout_tracker.models import Agency, Jurisdiction, Letter, Response, Vote
from optout_tracker.services import status_projection
from tests import factories

API = "/api/v1"
PROBLEM = "application/problem+json"
SEEDED_JURISDICTIONS = 50 + 1 + 3141  # states, DC (11001), counties
SEEDED_AGENCIES = 51 + 3  # one SIB per state and DC, ICE, DHS, the FBI
SANTA_CLARA_OCD = "ocd-division/country:us/state:ca/county:santa_clara"


def fetch(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(API + path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def names(client: TestClient, path: str, **params: Any) -> list[str]:
    return [item["name"] for item in fetch(client, path, limit=500, **params)["items"]]


def ids(client: TestClient, path: str, **params: Any) -> set[int]:
    return {item["id"] for item in fetch(client, path, limit=500, **params)["items"]}


def total(client: TestClient, path: str, **params: Any) -> int:
    return int(fetch(client, path, limit=1, **params)["total"])


def links(header: str) -> dict[str, dict[str, list[str]]]:
    """rel -> query of the link target, from an RFC 8288 Link header."""
    return {
        rel: parse_qs(urlsplit(url).query)
        for url, rel in re.findall(r'<([^>]+)>;\s*rel="(\w+)"', header)
    }


def lenient(client: TestClient) -> TestClient:
    """A client that answers 500 instead of re-raising, to see what a user would get."""
    return TestClient(client.app, raise_server_exceptions=False)


@dataclass
class Campaign:
    """A handful of real counties at different stages, built with the factories."""

    santa_clara: Jurisdiction
    san_francisco: Jurisdiction
    alameda: Jurisdiction
    los_angeles: Jurisdiction
    marin: Jurisdiction
    arlington: Jurisdiction
    ice: Agency
    ca_sib: Agency
    va_sib: Agency
    sc_passed: Vote
    sc_tabled: Vote
    alameda_failed: Vote
    arlington_passed: Vote
    sc_to_sib: Letter
    sc_to_ice: Letter
    sf_to_sib: Letter
    arlington_to_ice: Letter
    sf_denied: Response
    arlington_meeting: Response


@pytest.fixture
def campaign(session: Session) -> Campaign:
    j = {
        fips: factories.jurisdiction(session, fips)
        for fips in ("06085", "06075", "06001", "06037", "06041", "51013")
    }
    ice = factories.agency(session, AgencyKind.ice)
    ca_sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    va_sib = factories.agency(session, AgencyKind.state_identification_bureau, "VA")
    santa_clara, arlington = j["06085"], j["51013"]

    # Santa Clara: tabled, then passed 5-0, then notified both SIB and ICE (long overdue).
    sc_tabled = factories.vote(
        session,
        santa_clara,
        held_on=date(2010, 8, 10),
        outcome=VoteOutcome.tabled,
        measure="Direct County Counsel to clarify participation in Secure Communities",
        yes=None,
        no=None,
    )
    sc_passed = factories.vote(session, santa_clara)
    sc_to_sib = factories.letter(session, santa_clara, ca_sib, channel=Channel.mail)
    sc_to_ice = factories.letter(session, santa_clara, ice, channel=Channel.email)
    # San Francisco: the sheriff's faxed request to the California DOJ, denied a week later.
    sf_to_sib = factories.letter(
        session,
        j["06075"],
        ca_sib,
        sent_on=date(2010, 5, 18),
        channel=Channel.fax,
        signed_by="Sheriff Michael Hennessey",
    )
    sf_denied = factories.response(
        session, j["06075"], ca_sib, received_on=date(2010, 5, 25), letter_id=sf_to_sib.id
    )
    alameda_failed = factories.vote(
        session, j["06001"], held_on=date(2011, 1, 11), outcome=VoteOutcome.failed, yes=2, no=3
    )
    # Arlington: County Board vote, then a letter to ICE sent today, so not yet overdue.
    arlington_passed = factories.vote(session, arlington, body="County Board", yes=None, no=None)
    arlington_to_ice = factories.letter(
        session,
        arlington,
        ice,
        sent_on=today(),
        purpose=LetterPurpose.activation_delay_request,
        signed_by="Arlington County Manager",
    )
    arlington_meeting = factories.response(
        session,
        arlington,
        ice,
        received_on=today(),
        kind=ResponseKind.other,
        summary="ICE proposed a call with the Virginia State Police",
    )
    # Deployment plan dates.
    santa_clara.activated_on = date(2010, 5, 4)
    j["06037"].activated_on = date(2009, 8, 25)
    j["06041"].scheduled_activation_on = date(2011, 2, 15)
    j["06041"].activated_on = today() + timedelta(days=60)
    arlington.scheduled_activation_on = date(2010, 4, 1)
    session.flush()
    return Campaign(
        santa_clara=santa_clara,
        san_francisco=j["06075"],
        alameda=j["06001"],
        los_angeles=j["06037"],
        marin=j["06041"],
        arlington=arlington,
        ice=ice,
        ca_sib=ca_sib,
        va_sib=va_sib,
        sc_passed=sc_passed,
        sc_tabled=sc_tabled,
        alameda_failed=alameda_failed,
        arlington_passed=arlington_passed,
        sc_to_sib=sc_to_sib,
        sc_to_ice=sc_to_ice,
        sf_to_sib=sf_to_sib,
        arlington_to_ice=arlington_to_ice,
        sf_denied=sf_denied,
        arlington_meeting=arlington_meeting,
    )


# --- the historical dataset through the API -------------------------------------------------


def test_santa_clara_by_fips_with_history(client, session):
    before = fetch(client, "/jurisdictions", fips="06085")
    assert before["total"] == 1
    (sc,) = before["items"]
    assert (sc["name"], sc["kind"], sc["state"]) == ("Santa Clara County", "county", "CA")
    assert sc["ocd_id"] == SANTA_CLARA_OCD
    assert sc["slug"] == "ca-santa-clara-county"
    assert sc["status"] == "no_action"

    load_history(session, 30)
    session.commit()

    # Before ICE's letter of Aug 5, 2011, the county's own vote decides its status ...
    (sc,) = fetch(client, "/jurisdictions", fips="06085", as_of="2010-12-31")["items"]
    assert sc["status"] == "vote_passed"
    assert sc["status_label"] == "Vote passed"
    assert sc["status_since"] == "2010-09-28"
    assert sc["status_reason"] == "Board of Supervisors voted 5\u20130 to opt out"
    assert sc["activated_on"] == "2010-05-04"
    assert sc["activated"] is True
    assert fetch(client, f"/jurisdictions/{sc['id']}", as_of="2010-12-31") == sc
    # ... and today, that letter's denial, in a campaign the program's end closed.
    (sc,) = fetch(client, "/jurisdictions", fips="06085")["items"]
    assert (sc["status"], sc["status_since"]) == ("denied", "2011-08-05")
    assert sc["campaign_closed_on"] == "2014-11-20"
    assert fetch(client, f"/jurisdictions/{sc['id']}") == sc


@pytest.mark.history
def test_arlington_ends_denied_after_vote_letter_meeting(client, session):
    session.commit()

    (arlington,) = fetch(client, "/jurisdictions", fips="51013")["items"]
    assert arlington["name"] == "Arlington County"
    assert arlington["status"] == "denied"
    assert arlington["status_since"] == "2011-03-01"
    assert arlington["ice_notified"] is True
    assert arlington["sib_notified"] is False
    assert arlington["notice_complete"] is False
    assert arlington["awaiting_response"] is False

    timeline = fetch(client, f"/jurisdictions/{arlington['id']}/timeline")
    assert timeline["jurisdiction_id"] == arlington["id"]
    assert timeline["status"] == "denied"
    own = [e for e in timeline["items"] if e["type"] != "announcement"]
    entries = [(e["type"], e["date"], e["stage"]) for e in own]
    assert entries == [
        ("vote", "2010-09-28", "vote_passed"),
        ("letter", "2010-10-07", "notified"),
        ("response", "2010-11-05", "in_negotiation"),
        ("response", "2011-03-01", "denied"),
    ]
    # What ICE, DHS and Virginia said to every campaign in scope is on it too.
    said = [(e["date"], e["record"]["scope"]) for e in timeline["items"] if e not in own]
    assert said == [
        ("2008-10-27", "national"),
        ("2009-10-13", "VA"),
        ("2010-08-17", "national"),
        ("2011-08-05", "national"),
        ("2014-11-20", "national"),
        ("2015-07-02", "national"),
        ("2017-01-25", "national"),
    ]
    vote, letter, meeting, denial = own
    assert vote["description"] == "County Board voted to opt out"
    assert vote["record"]["body"] == "County Board"
    assert letter["record"]["purpose"] == "opt_out_request"
    assert letter["agency_id"] == letter["record"]["agency_id"]
    assert meeting["record"]["kind"] == "meeting_held"
    assert denial["record"]["kind"] == "denied"
    # The denial answers the County Manager's letter; the record does not tie the meeting to it.
    assert denial["record"]["letter_id"] == letter["record"]["id"]
    assert meeting["record"]["letter_id"] is None
    for entry in timeline["items"]:
        assert entry["description"].strip()


# --- the list envelope, sorting and paging ----------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/jurisdictions", "/agencies", "/votes", "/letters", "/responses"]
)
def test_list_envelope(client, campaign, path):
    r = client.get(API + path, params={"limit": 1, "offset": 1})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert (body["limit"], body["offset"]) == (1, 1)
    assert len(body["items"]) == 1
    assert body["total"] >= 2
    rels = links(r.headers["link"])
    assert {"first", "prev", "last"} <= set(rels)
    assert ("next" in rels) == (body["total"] > 2)
    assert rels["last"]["offset"] == [str(body["total"] - 1)]


def test_default_page_size_and_totals(client):
    body = fetch(client, "/jurisdictions")
    assert (body["limit"], body["offset"], body["total"]) == (50, 0, SEEDED_JURISDICTIONS)
    assert len(body["items"]) == 50
    assert total(client, "/agencies") == SEEDED_AGENCIES
    assert len(fetch(client, "/jurisdictions", limit=500)["items"]) == 500


def test_sort_by_name_both_ways(client):
    ascending = names(client, "/jurisdictions", state="CA", kind="county", sort="name")
    assert len(ascending) == 58
    assert ascending == sorted(ascending)
    assert ascending[0] == "Alameda County"
    assert names(client, "/jurisdictions", state="CA", kind="county", sort="-name") == list(
        reversed(ascending)
    )
    # Name is also the default order.
    assert names(client, "/jurisdictions", state="CA", kind="county") == ascending
    agencies = names(client, "/agencies", sort="-name")
    assert agencies == sorted(agencies, reverse=True)


def test_sort_by_status(client, campaign):
    def statuses(sort: str) -> list[str]:
        items = fetch(client, "/jurisdictions", state="CA", sort=sort, limit=500)["items"]
        return [item["status"] for item in items]

    ascending = statuses("status")
    assert set(ascending) == {"no_action", "notified", "denied", "vote_failed"}
    # Statuses sort in the campaign's order of stages, not alphabetically.
    assert list(dict.fromkeys(ascending)) == ["no_action", "vote_failed", "notified", "denied"]
    assert list(dict.fromkeys(statuses("-status"))) == list(reversed(dict.fromkeys(ascending)))


def test_paging_is_stable_and_links_walk_every_page(client, campaign):
    # Sorting by status leaves long runs of ties: the id tiebreak must keep pages disjoint.
    params: dict[str, Any] = {"state": "CA", "sort": "status", "limit": 7}
    everything = ids(client, "/jurisdictions", state="CA")
    assert len(everything) == 59  # 58 counties and the state

    seen: list[int] = []
    offset, pages = 0, 0
    while True:
        r = client.get(API + "/jurisdictions", params={**params, "offset": offset})
        assert r.status_code == 200
        body = r.json()
        assert body["total"] == 59
        seen += [item["id"] for item in body["items"]]
        rels = links(r.headers["link"])
        assert rels["first"]["offset"] == ["0"]
        assert rels["last"]["offset"] == ["56"]
        for query in rels.values():
            assert query["state"] == ["CA"]
            assert query["sort"] == ["status"]
            assert query["limit"] == ["7"]
        if offset == 0:
            assert "prev" not in rels
        else:
            assert rels["prev"]["offset"] == [str(offset - 7)]
        pages += 1
        if "next" not in rels:
            break
        offset = int(rels["next"]["offset"][0])
    assert pages == 9
    assert len(seen) == len(set(seen)) == 59
    assert set(seen) == everything


def test_offset_past_the_end(client):
    body = fetch(client, "/jurisdictions", state="DC", offset=10)
    assert body["items"] == []
    assert body["total"] == 1


# --- jurisdiction filters -----------------------------------------------------------------


def test_jurisdiction_equality_filters(client, session):
    california = factories.jurisdiction(session, "06")
    assert total(client, "/jurisdictions", kind="state") == 50
    assert names(client, "/jurisdictions", kind="federal_district") == ["District of Columbia"]
    assert total(client, "/jurisdictions", kind="county") == 3141
    assert total(client, "/jurisdictions", state="VA") == 134
    assert total(client, "/jurisdictions", state="ca") == 59  # codes are case-insensitive
    assert total(client, "/jurisdictions", state="CA", kind="county") == 58
    assert total(client, "/jurisdictions", parent_id=california.id) == 58
    assert names(client, "/jurisdictions", fips="11001") == ["District of Columbia"]
    assert names(client, "/jurisdictions", fips="06") == ["California"]
    assert names(client, "/jurisdictions", ocd_id=SANTA_CLARA_OCD) == ["Santa Clara County"]
    assert names(client, "/jurisdictions", slug="va-arlington-county") == ["Arlington County"]
    assert names(client, "/jurisdictions", slug="no-such-county") == []


def test_jurisdiction_name_search(client, session):
    assert names(client, "/jurisdictions", q="santa CLARA") == ["Santa Clara County"]
    assert set(names(client, "/jurisdictions", q="san ", state="CA")) == {
        "San Benito County",
        "San Bernardino County",
        "San Diego County",
        "San Francisco County",
        "San Joaquin County",
        "San Luis Obispo County",
        "San Mateo County",
    }
    # LIKE wildcards in the search text are plain characters.
    assert names(client, "/jurisdictions", q="%") == []
    assert names(client, "/jurisdictions", q="Santa_Clara") == []
    assert names(client, "/jurisdictions", q="San%Clara") == []
    dc = factories.jurisdiction(session, "11001")
    dc.name = "District of Columbia (100% of wards)"
    session.flush()
    assert names(client, "/jurisdictions", q="100%") == [dc.name]


def test_jurisdiction_status_filters(client, campaign):
    c = campaign
    assert ids(client, "/jurisdictions", status="notified") == {c.santa_clara.id, c.arlington.id}
    assert ids(client, "/jurisdictions", status="notified", state="CA") == {c.santa_clara.id}
    assert ids(client, "/jurisdictions", status="denied") == {c.san_francisco.id}
    assert ids(client, "/jurisdictions", status="vote_failed") == {c.alameda.id}
    assert total(client, "/jurisdictions", status="no_action") == SEEDED_JURISDICTIONS - 4


def test_jurisdiction_flag_filters(client, campaign):
    c, everyone = campaign, SEEDED_JURISDICTIONS
    # Santa Clara's letters went out in 2010 with no answer: overdue. Arlington's went today.
    assert ids(client, "/jurisdictions", overdue="true") == {c.santa_clara.id}
    assert total(client, "/jurisdictions", overdue="false") == everyone - 1
    assert c.santa_clara.id not in ids(client, "/jurisdictions", overdue="false", state="CA")
    assert ids(client, "/jurisdictions", awaiting_response="true") == {
        c.santa_clara.id,
        c.arlington.id,
    }
    assert total(client, "/jurisdictions", awaiting_response="false") == everyone - 2
    assert ids(client, "/jurisdictions", notice_complete="true") == {c.santa_clara.id}
    assert total(client, "/jurisdictions", notice_complete="false") == everyone - 1
    # Marin's activation date lies in the future: not activated yet.
    assert ids(client, "/jurisdictions", activated="true") == {c.santa_clara.id, c.los_angeles.id}
    assert total(client, "/jurisdictions", activated="false") == everyone - 2
    assert c.marin.id in ids(client, "/jurisdictions", activated="false", state="CA")

    (sc,) = fetch(client, "/jurisdictions", fips="06085")["items"]
    assert (sc["overdue"], sc["awaiting_response"], sc["notice_complete"]) == (True, True, True)
    assert (sc["sib_notified"], sc["ice_notified"]) == (True, True)
    assert sc["next_response_due_on"] == "2010-11-06"
    (arlington,) = fetch(client, "/jurisdictions", fips="51013")["items"]
    assert (arlington["overdue"], arlington["awaiting_response"]) == (False, True)
    assert (arlington["sib_notified"], arlington["ice_notified"]) == (False, True)


def test_jurisdiction_date_ranges_are_inclusive(client, campaign):
    c = campaign
    assert ids(
        client, "/jurisdictions", activated_on_from="2009-08-25", activated_on_to="2010-05-04"
    ) == {c.los_angeles.id, c.santa_clara.id}
    assert ids(client, "/jurisdictions", activated_on_to="2009-08-25") == {c.los_angeles.id}
    assert ids(client, "/jurisdictions", activated_on_from="2010-05-05") == {c.marin.id}
    assert ids(client, "/jurisdictions", scheduled_activation_on_from="2011-02-15") == {c.marin.id}
    assert ids(client, "/jurisdictions", scheduled_activation_on_to="2010-04-01") == {
        c.arlington.id
    }
    assert ids(
        client, "/jurisdictions", status_since_from="2010-10-07", status_since_to="2010-10-07"
    ) == {c.santa_clara.id}
    assert ids(client, "/jurisdictions", status_since_to="2010-05-25") == {c.san_francisco.id}
    assert ids(client, "/jurisdictions", status_since_from=today().isoformat()) == {c.arlington.id}


def test_jurisdiction_updated_since(client, session):
    santa_clara = factories.jurisdiction(session, "06085")
    arlington = factories.jurisdiction(session, "51013")
    since = utcnow()
    assert ids(client, "/jurisdictions", updated_since=since.isoformat()) == set()
    arlington.population = 207_627  # an edit of the record itself
    session.flush()
    factories.vote(session, santa_clara)  # a change of the derived status only
    assert ids(client, "/jurisdictions", updated_since=since.isoformat()) == {
        santa_clara.id,
        arlington.id,
    }


# --- event and agency filters ----------------------------------------------------------------


def test_vote_filters(client, campaign):
    c = campaign
    assert ids(client, "/votes") == {
        c.sc_passed.id,
        c.sc_tabled.id,
        c.alameda_failed.id,
        c.arlington_passed.id,
    }
    assert ids(client, "/votes", jurisdiction_id=c.santa_clara.id) == {
        c.sc_passed.id,
        c.sc_tabled.id,
    }
    assert ids(client, "/votes", state="VA") == {c.arlington_passed.id}
    assert ids(client, "/votes", state="CA", outcome="passed") == {c.sc_passed.id}
    assert ids(client, "/votes", outcome="tabled") == {c.sc_tabled.id}
    assert ids(client, "/votes", outcome="scheduled") == set()
    assert ids(client, "/votes", held_on_from="2010-09-28", held_on_to="2010-09-28") == {
        c.sc_passed.id,
        c.arlington_passed.id,
    }
    assert ids(client, "/votes", held_on_to="2010-08-10") == {c.sc_tabled.id}
    assert ids(client, "/votes", held_on_from="2011-01-11") == {c.alameda_failed.id}
    # Newest first by default, and any column can sort.
    dates = [v["held_on"] for v in fetch(client, "/votes")["items"]]
    assert dates == sorted(dates, reverse=True)
    dates = [v["held_on"] for v in fetch(client, "/votes", sort="held_on")["items"]]
    assert dates == sorted(dates)


def test_vote_updated_since(client, session, campaign):
    since = utcnow()
    assert ids(client, "/votes", updated_since=since.isoformat()) == set()
    campaign.sc_tabled.public_notes = "Tabled pending County Counsel's opinion."
    session.flush()
    assert ids(client, "/votes", updated_since=since.isoformat()) == {campaign.sc_tabled.id}


def test_letter_filters(client, campaign):
    c = campaign
    everything = {c.sc_to_sib.id, c.sc_to_ice.id, c.sf_to_sib.id, c.arlington_to_ice.id}
    assert ids(client, "/letters") == everything
    assert ids(client, "/letters", jurisdiction_id=c.santa_clara.id) == {
        c.sc_to_sib.id,
        c.sc_to_ice.id,
    }
    assert ids(client, "/letters", state="VA") == {c.arlington_to_ice.id}
    assert ids(client, "/letters", agency_id=c.ice.id) == {c.sc_to_ice.id, c.arlington_to_ice.id}
    assert ids(client, "/letters", agency_id=c.ca_sib.id, state="CA") == {
        c.sc_to_sib.id,
        c.sf_to_sib.id,
    }
    assert ids(client, "/letters", purpose="activation_delay_request") == {c.arlington_to_ice.id}
    assert ids(client, "/letters", purpose="records_request") == set()
    assert ids(client, "/letters", channel="fax") == {c.sf_to_sib.id}
    assert ids(client, "/letters", sent_on_from="2010-05-18", sent_on_to="2010-05-18") == {
        c.sf_to_sib.id
    }
    assert ids(client, "/letters", sent_on_from="2010-10-07", sent_on_to="2010-10-07") == {
        c.sc_to_sib.id,
        c.sc_to_ice.id,
    }
    assert ids(client, "/letters", response_due_on_to="2010-11-06") == {
        c.sc_to_sib.id,
        c.sc_to_ice.id,
        c.sf_to_sib.id,
    }
    assert ids(client, "/letters", response_due_on_from="2010-11-07") == {c.arlington_to_ice.id}


def test_response_filters(client, campaign):
    c = campaign
    assert ids(client, "/responses") == {c.sf_denied.id, c.arlington_meeting.id}
    assert ids(client, "/responses", jurisdiction_id=c.arlington.id) == {c.arlington_meeting.id}
    assert ids(client, "/responses", state="CA") == {c.sf_denied.id}
    assert ids(client, "/responses", agency_id=c.ca_sib.id) == {c.sf_denied.id}
    assert ids(client, "/responses", agency_id=c.va_sib.id) == set()
    assert ids(client, "/responses", letter_id=c.sf_to_sib.id) == {c.sf_denied.id}
    assert ids(client, "/responses", letter_id=c.sc_to_ice.id) == set()
    assert ids(client, "/responses", kind="denied") == {c.sf_denied.id}
    assert ids(client, "/responses", kind="other") == {c.arlington_meeting.id}
    assert ids(
        client, "/responses", received_on_from="2010-05-25", received_on_to="2010-05-25"
    ) == {c.sf_denied.id}
    assert ids(client, "/responses", received_on_from="2010-05-26") == {c.arlington_meeting.id}


def test_agency_filters(client, session):
    assert total(client, "/agencies", kind="state_identification_bureau") == 51
    assert names(client, "/agencies", kind="ice") == ["ICE Secure Communities"]
    assert names(client, "/agencies", kind="dhs") == ["U.S. Department of Homeland Security"]
    assert names(client, "/agencies", state="ca") == [
        "California Department of Justice, Bureau of Criminal Information and Analysis"
    ]
    assert names(client, "/agencies", kind="fbi") == [
        "FBI Criminal Justice Information Services (CJIS) Division"
    ]
    assert set(names(client, "/agencies", q="identification BUREAU")) == {
        "Alaska Department of Public Safety, Criminal Records and Identification Bureau",
        "Arkansas State Police, Identification Bureau",
        "West Virginia State Police, Criminal Identification Bureau",
    }
    assert names(client, "/agencies", q="homeland") == ["U.S. Department of Homeland Security"]
    since = utcnow()
    ca_sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    ca_sib.name = "California Department of Justice, Bureau of Criminal Identification"
    session.flush()
    assert ids(client, "/agencies", updated_since=since.isoformat()) == {ca_sib.id}


def test_agency_search_treats_wildcards_literally(client):
    assert names(client, "/agencies", q="%") == []
    assert names(client, "/agencies", q="_") == []


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/jurisdictions", {"limit": 0}, "limit"),
        ("/jurisdictions", {"limit": 501}, "limit"),
        ("/jurisdictions", {"limit": "ten"}, "limit"),
        ("/votes", {"offset": -1}, "offset"),
        ("/jurisdictions", {"colour": "red"}, "colour"),
        ("/jurisdictions", {"stat": "denied"}, "stat"),
        ("/jurisdictions", {"status": "opted-out"}, "status"),
        ("/jurisdictions", {"kind": "parish"}, "kind"),
        ("/votes", {"outcome": "approved"}, "outcome"),
        ("/letters", {"purpose": "complaint"}, "purpose"),
        ("/responses", {"kind": "refused"}, "kind"),
        ("/agencies", {"kind": "police"}, "kind"),
        ("/jurisdictions", {"overdue": "maybe"}, "overdue"),
        ("/votes", {"held_on_from": "2010-02-30"}, "held_on_from"),
        ("/letters", {"sent_on_to": "28/09/2010"}, "sent_on_to"),
        ("/jurisdictions", {"updated_since": "yesterday"}, "updated_since"),
        ("/jurisdictions", {"sort": "private_notes"}, "sort"),
        ("/jurisdictions", {"sort": "-colour"}, "sort"),
        ("/votes", {"sort": "name"}, "sort"),
        ("/jurisdictions", {"fips": "6085"}, "fips"),
        ("/jurisdictions", {"fips": "06085A"}, "fips"),
        ("/jurisdictions", {"state": "California"}, "state"),
        ("/jurisdictions", {"state": "C1"}, "state"),
        ("/votes", {"state": "V"}, "state"),
        ("/votes", {"jurisdiction_id": "arlington"}, "jurisdiction_id"),
        ("/status/by-fips", {"state": "C1"}, "state"),
        ("/status/by-fips", {"status": "won"}, "status"),
        ("/status/by-fips", {"colour": "red"}, "colour"),
        ("/status/summary", {"kind": "parish"}, "kind"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, path, params, field):
    r = client.get(API + path, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 422
    assert field in [e["field"] for e in body["errors"]]
    assert field in body["detail"]


def test_unknown_state_code_is_a_422(client):
    r = client.get(API + "/jurisdictions", params={"state": "ZZ"})
    assert r.status_code == 422


def test_unknown_parameter_message(client):
    r = client.get(API + "/votes", params={"outcomes": "passed"})
    assert r.json()["errors"] == [{"field": "outcomes", "message": "unknown parameter"}]


def test_problem_shape(client):
    r = client.get(API + "/jurisdictions", params={"limit": 0})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert set(body) == {"type", "status", "title", "detail", "errors"}
    assert body["type"] == "about:blank"
    assert body["status"] == 422
    assert body["title"] == "Invalid input"
    assert isinstance(body["detail"], str) and body["detail"]
    assert len(body["errors"]) == 1
    (error,) = body["errors"]
    assert set(error) == {"field", "message"}
    assert error["field"] == "limit"
    assert error["message"]

    r = client.get(API + "/jurisdictions/987654")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert set(body) == {"type", "status", "title", "detail"}
    assert body["status"] == 404
    assert "987654" in body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/jurisdictions/987654",
        "/jurisdictions/987654/timeline",
        "/agencies/987654",
        "/votes/987654",
        "/letters/987654",
        "/responses/987654",
        "/nothing-here",
        "/jurisdictions/1/nothing-here",
    ],
)
def test_not_found_is_a_problem(client, path):
    r = client.get(API + path)
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["status"] == 404
    assert r.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/status/summary", "/status/by-fips", "/jurisdictions/1/timeline"]
)
def test_post_on_a_read_only_path_is_405(client, path):
    r = client.post(API + path, json={})
    assert r.status_code == 405
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["allow"] == "GET"
    assert r.json()["status"] == 405


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/jurisdictions/99999999999999999999", {}),
        ("/jurisdictions", {"offset": 10**20}),
        ("/votes", {"jurisdiction_id": 10**20}),
        ("/jurisdictions", {"parent_id": -(10**20)}),
    ],
)
def test_huge_integers_are_not_a_500(client, path, params):
    r = lenient(client).get(API + path, params=params)
    assert r.status_code < 500, r.text


@pytest.mark.parametrize("path", ["/jurisdictions", "/votes"])
def test_updated_since_without_offset_is_not_a_500(client, path):
    r = lenient(client).get(API + path, params={"updated_since": "2010-09-28T00:00:00"})
    assert r.status_code in (200, 422), r.text


# --- single resources and ETags ----------------------------------------------------------


def test_etags_and_conditional_get(client, campaign):
    c = campaign
    for path in (
        f"/jurisdictions/{c.santa_clara.id}",
        f"/agencies/{c.ice.id}",
        f"/votes/{c.sc_passed.id}",
        f"/letters/{c.sc_to_sib.id}",
        f"/responses/{c.sf_denied.id}",
    ):
        r = client.get(API + path)
        assert r.status_code == 200, path
        etag = r.headers["etag"]
        assert re.fullmatch(r'(W/)?"[^"]+"', etag), etag
        assert client.get(API + path).headers["etag"] == etag  # stable

        cached = client.get(API + path, headers={"If-None-Match": etag})
        assert cached.status_code == 304, path
        assert cached.content == b""
        assert cached.headers["etag"] == etag
        listed = client.get(API + path, headers={"If-None-Match": f'"stale", {etag}'})
        assert listed.status_code == 304
        stale = client.get(API + path, headers={"If-None-Match": '"stale"'})
        assert stale.status_code == 200
        assert stale.json() == r.json()


def test_etags_differ_between_records(client, campaign):
    c = campaign
    tags = {
        client.get(API + path).headers["etag"]
        for path in (
            f"/votes/{c.sc_passed.id}",
            f"/votes/{c.sc_tabled.id}",
            f"/jurisdictions/{c.santa_clara.id}",
            f"/jurisdictions/{c.arlington.id}",
        )
    }
    assert len(tags) == 4


def test_jurisdiction_etag_changes_with_its_status(client, session):
    arlington = factories.jurisdiction(session, "51013")
    path = f"{API}/jurisdictions/{arlington.id}"
    first = client.get(path)
    assert first.json()["status"] == "no_action"
    etag = first.headers["etag"]

    factories.vote(session, arlington, body="County Board", yes=None, no=None)
    session.commit()

    second = client.get(path, headers={"If-None-Match": etag})
    assert second.status_code == 200
    assert second.json()["status"] == "vote_passed"
    assert second.headers["etag"] != etag
    assert client.get(path, headers={"If-None-Match": second.headers["etag"]}).status_code == 304


def test_vote_etag_changes_when_the_vote_is_edited(client, session, campaign):
    path = f"{API}/votes/{campaign.sc_tabled.id}"
    etag = client.get(path).headers["etag"]
    campaign.sc_tabled.public_notes = "Tabled pending County Counsel's opinion."
    session.commit()
    r = client.get(path, headers={"If-None-Match": etag})
    assert r.status_code == 200
    assert r.headers["etag"] != etag


def test_single_records_carry_their_fields(client, campaign):
    c = campaign
    vote = fetch(client, f"/votes/{c.sc_passed.id}")
    assert vote["jurisdiction_id"] == c.santa_clara.id
    assert (vote["body"], vote["held_on"], vote["outcome"]) == (
        "Board of Supervisors",
        "2010-09-28",
        "passed",
    )
    assert (vote["yes"], vote["no"], vote["version"]) == (5, 0, 1)
    letter = fetch(client, f"/letters/{c.sf_to_sib.id}")
    assert (letter["agency_id"], letter["channel"], letter["response_due_on"]) == (
        c.ca_sib.id,
        "fax",
        "2010-06-17",
    )
    response = fetch(client, f"/responses/{c.sf_denied.id}")
    assert (response["letter_id"], response["kind"]) == (c.sf_to_sib.id, "denied")
    agency = fetch(client, f"/agencies/{c.ca_sib.id}")
    assert (agency["kind"], agency["state"]) == ("state_identification_bureau", "CA")


# --- timeline and status views ----------------------------------------------------------


def test_timeline_merges_events_by_date(client, session, campaign):
    c = campaign
    # Same day as the 5-0 vote: vote, letter and response sort in that order on one date.
    same_day_letter = factories.letter(
        session, c.santa_clara, c.ice, sent_on=date(2010, 9, 28), purpose=LetterPurpose.other
    )
    same_day_answer = factories.response(
        session,
        c.santa_clara,
        c.ice,
        received_on=date(2010, 9, 28),
        kind=ResponseKind.acknowledged,
        letter_id=same_day_letter.id,
    )
    session.commit()

    timeline = fetch(client, f"/jurisdictions/{c.santa_clara.id}/timeline")
    assert timeline["status"] == "notified"
    got = [(e["type"], e["record"]["id"], e["date"], e["stage"]) for e in timeline["items"]]
    assert got == [
        ("vote", c.sc_tabled.id, "2010-08-10", None),
        ("vote", c.sc_passed.id, "2010-09-28", "vote_passed"),
        ("letter", same_day_letter.id, "2010-09-28", None),
        ("response", same_day_answer.id, "2010-09-28", "notified"),
        ("letter", c.sc_to_sib.id, "2010-10-07", "notified"),
        ("letter", c.sc_to_ice.id, "2010-10-07", "notified"),
    ]
    by_id = {(e["type"], e["record"]["id"]): e for e in timeline["items"]}
    assert by_id["vote", c.sc_passed.id]["description"] == (
        "Board of Supervisors voted 5\u20130 to opt out"
    )
    assert by_id["vote", c.sc_passed.id]["agency_id"] is None
    sib_letter = by_id["letter", c.sc_to_sib.id]
    assert sib_letter["agency_id"] == c.ca_sib.id
    assert c.ca_sib.name in sib_letter["description"]
    assert "tabled" in by_id["vote", c.sc_tabled.id]["description"]
    for entry in timeline["items"]:
        assert set(entry) >= {"type", "date", "stage", "description", "agency_id", "record"}
        assert entry["description"].strip()
        assert "private_notes" not in entry["record"]


def test_timeline_of_a_quiet_jurisdiction(client, session):
    wyoming = factories.jurisdiction(session, "56")
    assert fetch(client, f"/jurisdictions/{wyoming.id}/timeline") == {
        "jurisdiction_id": wyoming.id,
        "status": "no_action",
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }


@pytest.mark.history
def test_summary_agrees_with_list_totals(client, session):
    session.commit()

    summary = fetch(client, "/status/summary")
    assert summary["as_of"] == today().isoformat()
    overall = summary["overall"]
    assert overall["total"] == SEEDED_JURISDICTIONS == total(client, "/jurisdictions")
    assert set(overall["counts"]) == {s.value for s in CampaignStatus}
    assert sum(overall["counts"].values()) == overall["total"]
    for status, count in overall["counts"].items():
        assert total(client, "/jurisdictions", status=status) == count, status
    assert overall["counts"]["denied"] >= 1  # Arlington
    assert overall["counts"]["vote_scheduled"] >= 1  # DC's bill, never voted on

    by_state = summary["by_state"]
    assert len(by_state) == 51
    assert by_state["DC"]["total"] == 1
    assert sum(s["total"] for s in by_state.values()) == overall["total"]
    for code in ("CA", "VA", "IL", "NY", "MA", "DC", "WY"):
        counts = by_state[code]
        assert counts["total"] == total(client, "/jurisdictions", state=code)
        for status, count in counts["counts"].items():
            if count or status in ("denied", "vote_scheduled"):
                assert total(client, "/jurisdictions", state=code, status=status) == count, (
                    code,
                    status,
                )
    assert by_state["VA"]["counts"]["denied"] >= 1
    assert by_state["CA"]["counts"]["denied"] >= 2  # Santa Clara and San Francisco
    assert by_state["DC"]["counts"]["vote_scheduled"] == 1


def test_summary_by_kind(client, campaign):
    counties = fetch(client, "/status/summary", kind="county")
    assert counties["overall"]["total"] == 3141
    assert counties["overall"]["counts"]["notified"] == 2
    assert counties["overall"]["counts"]["denied"] == 1
    assert counties["by_state"]["CA"]["total"] == 58
    assert "DC" not in counties["by_state"]
    states = fetch(client, "/status/summary", kind="state")
    assert states["overall"]["total"] == 50
    assert states["overall"]["counts"]["no_action"] == 50
    assert fetch(client, "/status/summary", kind="federal_district")["by_state"] == {
        "DC": {"total": 1, "counts": {s.value: int(s == "no_action") for s in CampaignStatus}}
    }


def test_by_fips_lists_every_jurisdiction_with_a_fips(client, session, campaign):
    # A city added by an organizer without a place code stays off the map.
    city = Jurisdiction(
        name="City of Takoma Park", kind=JurisdictionKind.city, slug="md-takoma-park", state="MD"
    )
    session.add(city)
    session.flush()
    status_projection.initialize(session, [city.id or 0])
    session.commit()

    rows = fetch(client, "/status/by-fips")
    assert len(rows) == SEEDED_JURISDICTIONS
    assert len({r["fips"] for r in rows}) == len(rows)
    assert total(client, "/jurisdictions") == SEEDED_JURISDICTIONS + 1
    by_fips = {r["fips"]: r for r in rows}
    sc = by_fips["06085"]
    assert sc["id"] == campaign.santa_clara.id
    assert (sc["name"], sc["slug"], sc["state"], sc["kind"]) == (
        "Santa Clara County",
        "ca-santa-clara-county",
        "CA",
        "county",
    )
    assert (sc["status"], sc["status_since"]) == ("notified", "2010-10-07")
    assert (sc["notice_complete"], sc["overdue"], sc["activated"]) == (True, True, True)
    assert by_fips["11001"]["name"] == "District of Columbia"
    assert by_fips["06"]["kind"] == "state"
    assert "private_notes" not in sc

    virginia = fetch(client, "/status/by-fips", state="va")
    assert len(virginia) == total(client, "/jurisdictions", state="VA") == 134
    assert {r["state"] for r in virginia} == {"VA"}
    assert [r["fips"] for r in fetch(client, "/status/by-fips", status="denied")] == ["06075"]
    assert {r["fips"] for r in fetch(client, "/status/by-fips", status="notified")} == {
        "06085",
        "51013",
    }
    assert [r["fips"] for r in fetch(client, "/status/by-fips", state="CA", status="notified")] == [
        "06085"
    ]
    assert len(fetch(client, "/status/by-fips", kind="state")) == 50


# --- query counts ------------------------------------------------------------------------


def _query_counts(client, count_queries) -> dict[str, int]:
    requests = {
        "jurisdictions": ("/jurisdictions", {"state": "CA", "limit": 50}),
        "votes": ("/votes", {"limit": 50}),
        "summary": ("/status/summary", {}),
        "by-fips": ("/status/by-fips", {"state": "CA"}),
    }
    counts = {}
    for name, (path, params) in requests.items():
        with count_queries() as q:
            r = client.get(API + path, params=params)
        assert r.status_code == 200
        counts[name] = q.count
    return counts


def test_no_n_plus_one_queries(client, session, count_queries):
    california = factories.jurisdiction(session, "06")
    counties = list(
        session.scalars(
            sa.select(Jurisdiction)
            .filter_by(parent_id=california.id)
            .order_by(Jurisdiction.fips)
            .limit(20)
        )
    )
    factories.vote(session, counties[0])
    session.commit()
    one_event = _query_counts(client, count_queries)

    for county in counties[1:]:
        factories.vote(session, county, body="Board of Supervisors", held_on=date(2011, 2, 1))
    session.commit()
    assert len(fetch(client, "/votes", limit=50)["items"]) == 20
    twenty_events = _query_counts(client, count_queries)

    assert twenty_events == one_event
    for name, count in one_event.items():
        assert 1 <= count <= 3, (name, count)


# --- private notes -----------------------------------------------------------------------


def test_private_notes_never_appear(client, session, campaign):
    secret = "Supervisor Chavez wants this off the record"
    c = campaign
    c.santa_clara.private_notes = secret
    c.sc_passed.private_notes = secret
    session.commit()

    paths = [
        ("/jurisdictions", {"fips": "06085"}),
        ("/jurisdictions", {"state": "CA", "limit": 500}),
        ("/jurisdictions", {"q": "Santa Clara"}),
        (f"/jurisdictions/{c.santa_clara.id}", {}),
        (f"/jurisdictions/{c.santa_clara.id}/timeline", {}),
        ("/votes", {}),
        (f"/votes/{c.sc_passed.id}", {}),
        ("/letters", {}),
        ("/responses", {}),
        ("/status/by-fips", {"state": "CA"}),
        ("/status/summary", {}),
    ]
    for path, params in paths:
        r = client.get(API + path, params=params)
        assert r.status_code == 200, path
        assert secret not in r.text, path
        assert "private_notes" not in r.text, path
    # Nor can a filter or sort on it probe its content.
    assert client.get(API + "/jurisdictions", params={"private_notes": "x"}).status_code == 422
    assert client.get(API + "/jurisdictions", params={"sort": "private_notes"}).status_code == 422


def test_votes_cannot_sort_by_private_notes(client):
    # The order of records sorted by their private notes discloses which have notes and
    # how those compare; the jurisdictions list already refuses this.
    assert client.get(API + "/votes", params={"sort": "private_notes"}).status_code == 422


# --- OpenAPI ------------------------------------------------------------------------------

READ_PATHS = {
    "/jurisdictions",
    "/jurisdictions/{id}",
    "/jurisdictions/{id}/timeline",
    "/agencies",
    "/agencies/{id}",
    "/votes",
    "/votes/{id}",
    "/letters",
    "/letters/{id}",
    "/responses",
    "/responses/{id}",
    "/status/summary",
    "/status/by-fips",
}


def test_openapi_lists_the_read_api(client):
    spec = client.get("/openapi.json").json()
    paths = {re.sub(r"\{[^}]+\}", "{id}", p): ops for p, ops in spec["paths"].items()}
    for path in READ_PATHS:
        assert "get" in paths.get(API + path, {}), path


def _api_routes(routes: Any) -> Any:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI keeps included routers nested
            yield from _api_routes(route.original_router.routes)


def test_openapi_operations_are_named_after_their_functions(client):
    spec = client.get("/openapi.json").json()
    routes = {
        route.endpoint.__name__: route
        for route in _api_routes(client.app.routes)
        if route.include_in_schema  # pages are not part of the API
    }
    assert len(routes) >= len(READ_PATHS)
    operation_ids = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            name = op["operationId"]
            assert name in routes, (path, method, name)
            assert method.upper() in routes[name].methods
            assert path.endswith(routes[name].path)
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name)
            operation_ids.append(name)
            for text in (op.get("summary"), op.get("description")):
                assert text and text.strip(), (path, method)
                assert "\n" not in text.strip(), (path, method, text)
    assert len(operation_ids) == len(set(operation_ids))
    assert set(operation_ids) == set(routes)
