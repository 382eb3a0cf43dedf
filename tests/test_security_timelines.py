"""Issue 10, items 7 and 15: a crowded timeline costs every visitor the same, and an edit of
private fields only shows nowhere in public."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.db_types import utcnow
from optout_tracker.enums import LetterPurpose, ResponseKind, VoteOutcome
from optout_tracker.models import Jurisdiction, Letter, Response, Vote
from optout_tracker.services import status_projection
from tests import factories
from tests.conftest import Credentials
from tests.test_pages import sign_in

API = "/api/v1"
ATOM = "{http://www.w3.org/2005/Atom}"
HTML = {"accept": "text/html"}


# --- item 7: unbounded timelines ----------------------------------------------------------


def crowd(session: Session, j: Jurisdiction, n: int) -> None:
    """Add n votes, n letters and n responses (each answering a letter) to j, in three
    statements, as an import or a hostile organizer could."""
    ice = factories.agency(session)
    stamps = {"created_at": utcnow(), "updated_at": utcnow(), "version": 1}
    first = date(2009, 1, 1)
    days = [first + timedelta(days=i % 700) for i in range(n)]
    session.execute(
        sa.insert(Vote),
        [
            {**stamps, "jurisdiction_id": j.id, "body": "Board of Supervisors", "held_on": d}
            | {"outcome": VoteOutcome.tabled, "measure": "Resolution 2010-114"}
            for d in days
        ],
    )
    session.execute(
        sa.insert(Letter),
        [
            {**stamps, "jurisdiction_id": j.id, "agency_id": ice.id, "sent_on": d}
            | {"purpose": LetterPurpose.other, "response_due_on": d + timedelta(days=30)}
            for d in days
        ],
    )
    letters = session.scalars(
        sa.select(col(Letter.id)).where(col(Letter.jurisdiction_id) == j.id)
    ).all()
    session.execute(
        sa.insert(Response),
        [
            {**stamps, "jurisdiction_id": j.id, "agency_id": ice.id, "received_on": d}
            | {"kind": ResponseKind.other, "letter_id": letters[i % len(letters)]}
            for i, d in enumerate(days)
        ],
    )
    status_projection.refresh(session, [j.id or 0])
    session.commit()


@dataclass
class Cost:
    size: int  # bytes of the body
    queries: int
    records: int  # votes, letters and responses loaded as objects


@contextmanager
def counting_records() -> Iterator[list[object]]:
    loaded: list[object] = []

    def load(target: object, _context: Any) -> None:
        loaded.append(target)

    for model in (Vote, Letter, Response):
        sa.event.listen(model, "load", load)
    try:
        yield loaded
    finally:
        for model in (Vote, Letter, Response):
            sa.event.remove(model, "load", load)


def cost(client: TestClient, session: Session, count_queries: Callable[[], Any], url: str) -> Cost:
    client.get(url, headers=HTML)  # fills the caches (the map's)
    session.expunge_all()  # what the request loads is loaded by it, not found in the session
    with count_queries() as q, counting_records() as loaded:
        r = client.get(url, headers=HTML)
    assert r.status_code == 200, (url, r.text[:300])
    return Cost(len(r.content), q.count, len(loaded))


def test_a_crowded_timeline_costs_every_visitor_the_same(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    j = factories.jurisdiction(session, "06085")
    crowd(session, j, 300)  # 900 events: many pages already
    urls = [
        f"{API}/jurisdictions/{j.id}/timeline",
        f"/jurisdictions/{j.slug}",
        "/",
        "/activity",
    ]
    before = {url: cost(client, session, count_queries, url) for url in urls}
    crowd(session, j, 1000)  # 3,900 events
    after = {url: cost(client, session, count_queries, url) for url in urls}
    grown = [url for url in urls if not bounded(before[url], after[url])]
    assert grown == [], (before, after)


def bounded(before: Cost, after: Cost) -> bool:
    """The same work for 3,900 events as for 900: a page of them, not all."""
    return (
        after.queries == before.queries
        and after.records == before.records <= 100
        # Ids grow a digit or so; the number of events shown does not.
        and after.size <= before.size * 1.05 + 1000
    )


def test_the_timeline_api_pages_in_order(client: TestClient, session: Session) -> None:
    j = factories.jurisdiction(session, "06085")
    crowd(session, j, 100)
    path = f"{API}/jurisdictions/{j.id}/timeline"
    first = client.get(path, params={"limit": 100})
    assert first.status_code == 200
    page1 = first.json()
    assert (page1["total"], page1["limit"], page1["offset"]) == (300, 100, 0)
    assert page1["jurisdiction_id"] == j.id and page1["status"]
    assert len(page1["items"]) == 100
    next_link = re.search(r'<([^>]+)>; rel="next"', first.headers["link"])
    assert next_link and "offset=100" in next_link.group(1)

    page2 = client.get(next_link.group(1)).json()
    both = client.get(path, params={"limit": 200}).json()
    assert page1["items"] + page2["items"] == both["items"]  # page 2 continues page 1 exactly
    rank = {"vote": 0, "letter": 1, "response": 2}
    keys = [(e["date"], rank[e["type"]], e["record"]["id"]) for e in both["items"]]
    assert keys == sorted(keys)
    assert len(set(keys)) == 200

    every = client.get(path, params={"limit": 500}).json()["items"]
    assert every[:200] == both["items"]
    for offset in (140, 160, 250, 299):  # the later half is read from the end
        got = client.get(path, params={"offset": offset, "limit": 50}).json()["items"]
        assert got == every[offset : offset + 50], offset
    assert client.get(path, params={"offset": 300}).json()["items"] == []
    assert client.get(path, params={"limit": 501}).status_code == 422
    assert client.get(path, params={"limit": 0}).status_code == 422


def test_the_dossier_shows_the_latest_events_and_pages_back(
    client: TestClient, session: Session
) -> None:
    j = factories.jurisdiction(session, "06085")
    crowd(session, j, 100)  # a vote, a letter and a response a day from Jan 1, 2009
    first_day, last_day = '<time datetime="2009-01-01">', '<time datetime="2009-04-10">'

    page = client.get(f"/jurisdictions/{j.slug}", headers=HTML).text
    assert page.count('<li class="event') == 50
    assert last_day in page and first_day not in page
    assert "251–300 of 300" in page
    earlier = re.search(r'<a rel="prev" href="([^"]+)"', page)
    assert earlier and 'rel="next"' not in page
    assert f"{API}/jurisdictions/{j.id}/timeline?offset=250&amp;limit=50" in page  # JSON twin

    back = client.get(f"/jurisdictions/{j.slug}{earlier.group(1).replace('&amp;', '&')}").text
    assert "201–250 of 300" in back
    start = client.get(f"/jurisdictions/{j.slug}?offset=0", headers=HTML).text
    assert "1–50 of 300" in start
    assert first_day in start and last_day not in start
    assert client.get(f"/jurisdictions/{j.slug}?offset=-1", headers=HTML).status_code == 422


def test_the_response_form_offers_the_latest_letters_only(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    crowd(session, j, 300)  # 300 letters
    sign_in(client, credentials, "organizer")
    form = client.get(f"/jurisdictions/{j.slug}/log/response", headers=HTML).text
    select = re.search(r'<select[^>]*name="letter_id".*?</select>', form, re.S)
    assert select
    assert len(re.findall(r'<option value="\d+"', select.group(0))) == 200


def test_the_dossier_still_tells_when_activation_came_after_notice(
    client: TestClient, session: Session
) -> None:
    j = factories.jurisdiction(session, "06085")
    crowd(session, j, 60)  # the notice below is far from the latest events
    factories.letter(session, j, factories.agency(session), sent_on=date(2008, 12, 1))
    factories.activate(session, j, date(2009, 3, 1))
    session.commit()
    page = client.get(f"/jurisdictions/{j.slug}", headers=HTML).text
    assert "Activated despite opting out:" in page
    assert "(notice sent Dec 1, 2008)" in page


# --- item 15: edits of private fields only ------------------------------------------------

NOTE = "Supervisor Yeager's office says the sheriff objects"


def _entries(client: TestClient, path: str) -> list[str]:
    feed = ET.fromstring(client.get(path).content)
    return [e.findtext(f"{ATOM}title") or "" for e in feed.findall(f"{ATOM}entry")]


def _changed(client: TestClient) -> int:
    return client.get("/activity", headers=HTML).text.count("&#39;s vote was changed")


def _updates(session: Session) -> int:
    return sum(d.event == "vote.updated" for d in factories.deliveries(session))


def test_an_edit_of_private_notes_only_shows_nowhere_in_public(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    vote = factories.vote(session, j)
    session.commit()
    factories.webhook(session)  # every event
    url = f"{API}/votes/{vote.id}"
    write, read = credentials.headers("write"), credentials.headers("read")
    public_tag = client.get(url).headers["etag"]
    reader_tag = client.get(url, headers=read).headers["etag"]
    feed = _entries(client, "/feeds/activity.atom")

    r = client.patch(url, json={"private_notes": NOTE}, headers=write)
    assert r.status_code == 200 and r.json()["private_notes"] == NOTE
    assert _entries(client, "/feeds/activity.atom") == feed
    assert _entries(client, f"/feeds/jurisdictions/{j.slug}.atom") == []
    assert _changed(client) == 0
    assert _updates(session) == 0
    assert client.get(url).headers["etag"] == public_tag
    assert client.get(url, headers={"If-None-Match": public_tag}).status_code == 304
    assert client.get(url, headers=read).headers["etag"] != reader_tag
    # Admins still see it in the audit log.
    audit = client.get(f"{API}/audit", headers=credentials.headers("admin")).json()["items"]
    assert any(e["entity_id"] == vote.id and "private_notes" in e["changes"] for e in audit)

    # A public edit still does all three.
    r = client.patch(url, json={"public_notes": "Adopted as Resolution 2010-114"}, headers=write)
    assert r.status_code == 200
    assert _entries(client, "/feeds/activity.atom")[0].endswith("'s vote was changed")
    assert _changed(client) == 1
    assert _updates(session) == 1
    assert client.get(url).headers["etag"] != public_tag


def test_the_feed_still_fills_with_public_changes_past_many_private_edits(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    write = credentials.headers("write")
    body = {"jurisdiction_id": j.id, "body": "Board of Supervisors", "held_on": "2010-09-28"}
    r = client.post(f"{API}/votes", json={**body, "outcome": "passed"}, headers=write)
    url = f"{API}/votes/{r.json()['id']}"
    for n in range(60):  # more than the feed's 50 entries
        client.patch(url, json={"private_notes": f"{NOTE} ({n})"}, headers=write)
    assert _entries(client, "/feeds/activity.atom")[0] == (
        "Santa Clara County: Board of Supervisors passed an opt-out measure (Sep 28, 2010)"
    )


def test_a_public_tag_in_if_match_vouches_for_the_public_fields(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    vote = factories.vote(session, j)
    session.commit()
    url = f"{API}/votes/{vote.id}"
    write = credentials.headers("write")
    public_tag = client.get(url).headers["etag"]
    reader_tag = client.get(url, headers=write).headers["etag"]
    assert client.patch(url, json={"private_notes": NOTE}, headers=write).status_code == 200

    # The private tag names the version: any edit since makes it stale.
    stale = client.patch(url, json={"yes": 4}, headers={**write, "If-Match": reader_tag})
    assert stale.status_code == 412
    # A client that read anonymously never saw the notes: editing the public fields it saw
    # is safe, overwriting notes it never read is not.
    notes = client.patch(
        url, json={"private_notes": "x"}, headers={**write, "If-Match": public_tag}
    )
    assert notes.status_code == 412
    r = client.patch(url, json={"yes": 4}, headers={**write, "If-Match": public_tag})
    assert r.status_code == 200 and r.json()["private_notes"] == NOTE
    again = client.patch(url, json={"no": 1}, headers={**write, "If-Match": public_tag})
    assert again.status_code == 412
