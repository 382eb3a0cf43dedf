"""Atom feeds and the calendar: valid, public only, and filterable."""

from datetime import date, timedelta
from xml.etree import ElementTree as ET

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.clock import today
from optout_tracker.enums import AgencyKind
from tests import factories
from tests.conftest import Credentials

ATOM = "{http://www.w3.org/2005/Atom}"
API = "/api/v1"


def log_vote(
    client: TestClient, credentials: Credentials, jurisdiction_id: int | None, **fields
) -> dict:
    body = {
        "jurisdiction_id": jurisdiction_id, "body": "Board of Supervisors", "held_on": "2010-10-19",
        "outcome": "passed", "yes": 4, "no": 1, "private_notes": "Supervisor Chan is persuadable",
        **fields,
    }  # fmt: skip
    r = client.post(f"{API}/votes", json=body, headers=credentials.headers("write"))
    assert r.status_code == 201, r.text
    return r.json()


def test_the_activity_feed_is_valid_atom_of_public_changes(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    alameda = factories.jurisdiction(session, "06001")
    vote = log_vote(client, credentials, alameda.id)
    client.patch(f"{API}/votes/{vote['id']}", json={"yes": 5}, headers=credentials.headers("write"))
    r = client.get("/feeds/activity.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert "persuadable" not in r.text and "private_notes" not in r.text
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries[:2]] == [
        "Alameda County's vote was changed",
        "Alameda County: Board of Supervisors passed an opt-out measure 4–1 (Oct 19, 2010)",
    ]
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids)) and all(ids)
    link = entries[0].find(f"{ATOM}link")
    assert link is not None and link.get("href", "").endswith("/jurisdictions/ca-alameda-county")
    assert entries[0].findtext(f"{ATOM}summary") == "Yes votes: 4 → 5."


def test_a_jurisdiction_feed_carries_only_its_changes(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    log_vote(client, credentials, factories.jurisdiction(session, "06001").id)
    log_vote(client, credentials, factories.jurisdiction(session, "06085").id)
    feed = ET.fromstring(client.get("/feeds/jurisdictions/ca-santa-clara-county.atom").content)
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert titles and all("Santa Clara County" in (t or "") for t in titles)
    assert client.get("/feeds/jurisdictions/nowhere.atom").status_code == 404


@pytest.mark.history
def test_the_calendar_holds_votes_activations_and_answer_deadlines(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    alameda = factories.jurisdiction(session, "06001")
    ahead = today() + timedelta(days=14)
    log_vote(
        client,
        credentials,
        alameda.id,
        outcome="scheduled",
        held_on=ahead.isoformat(),
        yes=None,
        no=None,
    )
    alameda.scheduled_activation_on = date(2030, 1, 15)
    session.commit()
    ice = factories.agency(session, AgencyKind.ice)
    letter = {"jurisdiction_id": alameda.id, "agency_id": ice.id, "sent_on": today().isoformat()}
    letter |= {"purpose": "opt_out_request"}
    sent = client.post(f"{API}/letters", json=letter, headers=credentials.headers("write"))
    assert sent.status_code == 201, sent.text
    due = date.fromisoformat(sent.json()["response_due_on"])

    r = client.get("/calendar.ics?state=CA")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "persuadable" not in r.text
    cal = icalendar.Calendar.from_ical(r.content)
    events = {str(e["uid"]).split("@")[0]: e for e in cal.walk("VEVENT")}
    vote = next(e for uid, e in events.items() if uid.startswith("vote-"))
    assert vote.decoded("dtstart") == ahead and "Alameda County" in str(vote["summary"])
    assert any(
        e.decoded("dtstart") == date(2030, 1, 15)
        for uid, e in events.items()
        if uid.startswith("activation-")
    )
    deadlines = [e for uid, e in events.items() if uid.startswith("letter-")]
    # Alameda's letter of today; not San Francisco's unanswered ones of August 2010, whose
    # campaign the program's end (Nov 20, 2014) closed.
    assert [e.decoded("dtstart") for e in deadlines] == [due]
    assert all("Alameda County" in str(e["summary"]) for e in deadlines)
    assert all(str(e["url"]).startswith("http") for e in events.values())
    assert not any("Arlington" in str(e["summary"]) for e in events.values())  # VA, filtered out
    assert client.get("/calendar.ics?state=ZZ").status_code == 422


def test_control_characters_never_reach_a_feed(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    r = client.post(
        f"{API}/votes",
        json={
            "jurisdiction_id": j.id,
            "body": "Board\x0bX",
            "held_on": "2010-10-19",
            "outcome": "passed",
        },
        headers=credentials.headers("write"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    factories.vote(session, j, body="Board\x0bof Supervisors")  # e.g. loaded before the check
    j.name = "Santa Clara\x01 County"
    session.commit()
    client.patch(
        f"{API}/jurisdictions/{j.id}", json={"population": 1}, headers=credentials.headers("write")
    )
    for path in ("/feeds/activity.atom", "/feeds/jurisdictions/ca-santa-clara-county.atom"):
        ET.fromstring(client.get(path).content)  # parses


def test_the_activity_page_links_its_feed_and_calendar(client: TestClient) -> None:
    r = client.get("/activity")
    assert r.status_code == 200
    assert 'href="/feeds/activity.atom"' in r.text and 'href="/calendar.ics"' in r.text
