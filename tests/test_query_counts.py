"""The pages that list events cost a constant number of queries, however many jurisdictions
have events (no query per jurisdiction, per event or per change)."""

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker import audit
from optout_tracker.enums import AuditAction
from optout_tracker.models import Jurisdiction
from optout_tracker.security import CLI
from tests import factories

HTML = {"accept": "text/html"}
DOSSIER = "/jurisdictions/06085"  # Santa Clara County, by its FIPS code


def counties(session: Session, n: int) -> list[Jurisdiction]:
    """n counties of California, Santa Clara County (the dossier measured) first."""
    santa_clara = factories.jurisdiction(session, "06085")
    others = session.scalars(
        sa.select(Jurisdiction)
        .where(col(Jurisdiction.fips).like("06___"), col(Jurisdiction.id) != santa_clara.id)
        .order_by(col(Jurisdiction.fips))
        .limit(n - 1)
    )
    return [santa_clara, *others]


def add_events(session: Session, jurisdictions: list[Jurisdiction]) -> None:
    """A vote, a letter and its answer on one day in each jurisdiction, each with its audit
    entry: the latest events are of every kind, as the pages read each kind on its own."""
    ice = factories.agency(session)
    for i, j in enumerate(jurisdictions):
        on = date(2010, 9, 1 + i % 28)
        vote = factories.vote(session, j, held_on=on)
        letter = factories.letter(session, j, ice, sent_on=on)
        response = factories.response(session, j, ice, letter_id=letter.id, received_on=on)
        for record in (vote, letter, response):
            audit.record(session, CLI, AuditAction.create, record, None)
    session.commit()


def query_counts(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> dict[str, int]:
    """The statements each page runs, once its map is drawn and cached."""
    counts = {}
    for url in ("/", "/activity", DOSSIER):
        assert client.get(url, headers=HTML).status_code == 200  # draws the map
        session.expunge_all()  # what the request needs it loads itself
        with count_queries() as q:
            r = client.get(url, headers=HTML)
        assert r.status_code == 200, (url, r.text[:300])
        counts[url] = q.count
    return counts


def test_pages_run_as_many_queries_for_30_jurisdictions_with_events_as_for_3(
    client: TestClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    thirty = counties(session, 30)
    add_events(session, thirty[:3])
    few = query_counts(client, session, count_queries)
    add_events(session, thirty[3:] + thirty[:1])  # and more events in the dossier's county
    many = query_counts(client, session, count_queries)
    assert many == few
    # Drawn from the cache, the map costs one query (its data version); the rest is the page.
    assert few["/"] <= 15 and few["/activity"] <= 10 and few[DOSSIER] <= 15, few


def test_the_activity_page_lists_events_of_many_jurisdictions(
    client: TestClient, session: Session
) -> None:
    """The counts above are of pages that show the events: 25 jurisdictions, one query."""
    thirty = counties(session, 30)
    add_events(session, thirty)
    page = client.get("/activity", headers=HTML).text
    assert sum(f'href="/jurisdictions/{j.slug}"' in page for j in thirty) >= 25
