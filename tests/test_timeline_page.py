"""/timeline as a browser without JavaScript reads it: the chart and its table twin agree,
every date links to the map as of that day, share cards, and the cache's ETag."""

import re
from collections.abc import Iterator
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from optout_tracker.enums import AgencyKind
from optout_tracker.main import create_app
from optout_tracker.services import national_timeline
from tests import factories
from tests.conftest import Credentials, make_settings, use_test_session
from tests.test_national_timeline import story
from tests.test_pages import sign_in
from tests.test_share_cards import share_tags

BASE = "http://optout.example.org"
HTML = {"accept": "text/html"}


@pytest.fixture
def client(session: Session, seeded_engine: Engine) -> Iterator[TestClient]:
    national_timeline.forget()  # rolled-back tests may repeat a data version
    url = seeded_engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(url, base_url=BASE))
    use_test_session(app, session)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def chart_of(page: str) -> str:
    found = re.search(r'<svg class="timeline-chart".*?</svg>', page, re.S)
    assert found, "the page draws the chart"
    return found.group(0)


def test_the_table_twin_says_what_the_chart_draws(client: TestClient, session: Session) -> None:
    story(session)
    session.commit()
    r = client.get("/timeline", headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    chart = chart_of(r.text)
    drawn = re.findall(
        r'<a href="([^"]+)"><rect class="hit"[^>]*><title>(\w{3} \d{4}): ([\d,]+) count(?:y|ies) '
        r"activated, ([\d,]+) in total</title>",
        chart,
    )
    table = re.findall(
        r'<tr>\s*<th scope="row"><a href="([^"]+)">(\w{3} \d{4})</a></th>\s*'
        r'<td class="num">([\d,]+)</td>\s*<td class="num">([\d,]+)</td>',
        r.text,
    )
    assert len(drawn) == 100  # Oct 2008 to Jan 2017
    assert [(unescape(h), *rest) for h, *rest in drawn] == [
        (unescape(h), *rest) for h, *rest in table
    ]
    assert ("/?as_of=2010-05-31&layer=rollout", "May 2010", "2", "4") in [
        (unescape(h), *rest) for h, *rest in table
    ]
    # The months' figures in words, and the events of a month in its row.
    assert "From Oct 2008 to Jan 2017, 6 of 3,142 counties were activated" in r.text
    sep_2010 = r.text.split(">Sep 2010</a>")[1].split("</tr>")[0]
    assert "Santa Clara County, CA</a>: Board of Supervisors voted 5–0 to opt out" in sep_2010
    assert "Timeline</a>" in r.text.split("</nav>")[0]  # in the site's navigation


def test_every_date_links_to_the_map_as_of_that_day(client: TestClient, session: Session) -> None:
    story(session)
    session.commit()
    page = client.get("/timeline", headers=HTML).text
    main = page.split('<main id="main">')[1].split("</main>")[0]
    hrefs = {unescape(h) for h in re.findall(r'href="([^"]+)"', main)}
    maps = {h for h in hrefs if h.startswith("/?")}
    assert all(re.fullmatch(r"/\?as_of=\d{4}-\d{2}-\d{2}(&layer=rollout)?", h) for h in maps)
    # The marks: the events' and announcements' days on the campaign map (its default).
    for day in ("2009-04-10", "2010-09-28", "2011-03-01", "2011-08-05", "2017-01-25"):
        assert f'<a href="/?as_of={day}"><' in chart_of(page)
        assert f'<a href="/?as_of={day}"><time datetime="{day}">' in main
    # Following one lands on the map as of that day.
    r = client.get("/?as_of=2011-08-05", headers=HTML)
    assert r.status_code == 200 and "Aug 5, 2011" in r.text
    r = client.get("/?as_of=2010-05-31&layer=rollout", headers=HTML)
    assert r.status_code == 200 and 'data-layer="rollout"' in r.text
    # Sources and dossiers are linked too.
    assert "https://www.ice.gov/secure-communities" in hrefs
    assert "/jurisdictions/ca-santa-clara-county" in hrefs


def test_share_cards_preview_the_rollout_map(client: TestClient, session: Session) -> None:
    story(session)
    session.commit()
    tags = share_tags(client.get("/timeline", headers=HTML).text)
    assert tags["og:url"] == f"{BASE}/timeline"
    assert tags["og:image"] == tags["twitter:image"] == f"{BASE}/map.png?layer=rollout"
    assert tags["twitter:card"] == "summary_large_image"
    assert (
        tags["og:title"]
        == tags["twitter:title"]
        == ("Secure Communities, month by month: the national timeline")
    )
    assert tags["og:description"] == tags["twitter:description"]
    assert tags["og:description"].startswith("6 of 3,142 counties activated from Oct 2008")
    r = client.get("/map.png?layer=rollout")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"


def test_a_held_copy_gets_304_until_the_data_changes(client: TestClient, session: Session) -> None:
    story(session)
    session.commit()
    first = client.get("/timeline", headers=HTML)
    etag = first.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}(?:-gzip|-br)?"', etag)  # and the encoding sent
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = client.get("/timeline", headers={**HTML, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.head("/timeline").headers["etag"] == etag
    factories.activate(session, factories.jurisdiction(session, "06041"), date(2010, 9, 14))
    session.commit()
    changed = client.get("/timeline", headers={**HTML, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "7 of 3,142 counties" in changed.text


def test_private_notes_stay_off_the_page_even_for_the_signed_in(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ice = factories.agency(session, AgencyKind.ice)
    factories.announcement(session, ice, private_notes="Call the regional office first")
    j = factories.jurisdiction(session, "06085")
    factories.vote(session, j, private_notes="Supervisor Chan is persuadable")
    session.commit()
    sign_in(client, credentials, "viewer")
    r = client.get("/timeline", headers=HTML)
    assert "Participation in Secure Communities is mandatory" in r.text
    assert "regional office" not in r.text and "persuadable" not in r.text
    assert r.headers["cache-control"] == "private, no-store"  # the page names who is signed in


def test_an_empty_story_says_so(client: TestClient) -> None:
    r = client.get("/timeline", headers=HTML)
    assert r.status_code == 200
    assert "Nothing dated yet" in r.text and "No announcement or campaign event" in r.text
