"""Share cards: /map.png, the status map as a PNG, and the Open Graph and Twitter tags
that point to it from the map pages and the dossiers."""

import re
import struct
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session

from optout_tracker import mapimage
from optout_tracker.main import SESSION_COOKIE, create_app
from tests import factories
from tests.conftest import Credentials, make_settings, use_test_session
from tests.test_pages import sign_in

BASE = "http://optout.example.org"  # the public URL, apart from where the tests call
HTML = {"accept": "text/html"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SANTA_CLARA = "ca-santa-clara-county"


@pytest.fixture
def client(session: Session, seeded_engine: Engine) -> Iterator[TestClient]:
    url = seeded_engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(url, base_url=f"{BASE}/"))  # the slash is not doubled
    use_test_session(app, session)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (its first chunk is IHDR)."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def share_tags(page: str) -> dict[str, str]:
    found = re.findall(
        r'<meta (?:property|name)="((?:og|twitter):[\w:]+)" content="([^"]*)">', page
    )
    return dict(found)


@pytest.mark.parametrize("query", ["", "?view=states", "?state=CA", "?state=ca&view=counties"])
def test_the_map_is_a_png_of_the_share_card_size(client: TestClient, query: str) -> None:
    r = client.get(f"/map.png{query}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert png_size(r.content) == (1200, 630)
    assert r.headers["cache-control"].startswith("public, max-age=")
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["etag"])


def test_the_second_request_is_served_from_the_cache_and_a_held_copy_gets_304(
    client: TestClient,
) -> None:
    first = client.get("/map.png?state=NY")
    renders, hits = mapimage.stats.renders, mapimage.stats.hits
    second = client.get("/map.png?state=NY")
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    # Answered by the public cache, which keeps the bytes: the picture is not even looked up.
    assert (mapimage.stats.renders, mapimage.stats.hits) == (renders, hits)
    # A visitor with a session, whom that cache does not answer, gets the picture drawn once.
    third = client.get("/map.png?state=NY", headers={"Cookie": f"{SESSION_COOKIE}=x"})
    assert third.content == first.content and third.headers["etag"] == first.headers["etag"]
    assert (mapimage.stats.renders, mapimage.stats.hits) == (renders, hits + 1)

    etag = first.headers["etag"]
    for held in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = client.get("/map.png?state=NY", headers={"If-None-Match": held})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
    assert client.get("/map.png?state=NY", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/map.png?state=NJ").headers["etag"] != etag  # another map, another tag


def test_the_title_line_is_drawn_in_a_font() -> None:
    """resvg draws text only with fonts it found (the system's): without one, no title."""
    square = Markup(
        '<svg class="map" viewBox="0 0 10 10"><path class="s-denied" d="M0 0h9v9z"/></svg>'
    )
    titled = mapimage.png(object(), "square", "Secure Communities", lambda: square)
    untitled = mapimage.png(object(), "square", "", lambda: square)
    assert png_size(titled.png) == png_size(untitled.png) == (1200, 630)
    assert titled.png != untitled.png


def test_a_change_of_status_draws_a_new_image(client: TestClient, session: Session) -> None:
    before = client.get("/map.png?state=CA")
    factories.vote(session, factories.jurisdiction(session, "06001"), held_on=date(2010, 10, 19))
    session.commit()
    # (Whether this process rendered it just now depends on the tests before: rolled back,
    # they may have drawn the same data at the same version on the other database.)
    r = client.get("/map.png?state=CA", headers={"If-None-Match": before.headers["etag"]})
    assert r.status_code == 200 and r.headers["etag"] != before.headers["etag"]
    assert r.content != before.content and png_size(r.content) == (1200, 630)


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("?colour=red", 422, "colour"),
        ("?view=towns", 422, "view"),
        ("?state=CA&view=states", 422, "query"),
        ("?state=ZZ", 404, None),
        ("?state=PR", 404, None),  # a territory: no map, as /states/PR
    ],
)
def test_the_map_refuses_what_it_cannot_draw(
    client: TestClient, query: str, status: int, field: str | None
) -> None:
    r = client.get(f"/map.png{query}")
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    if field:
        assert [e["field"] for e in r.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("path", "url", "image"),
    [
        ("/", f"{BASE}/", f"{BASE}/map.png"),
        ("/?view=states", f"{BASE}/?view=states", f"{BASE}/map.png?view=states"),
        ("/states/ca", f"{BASE}/states/CA", f"{BASE}/map.png?state=CA"),
        # A dossier shows its state's map.
        ("/jurisdictions/06085", f"{BASE}/jurisdictions/{SANTA_CLARA}", f"{BASE}/map.png?state=CA"),
        ("/jurisdictions/ny", f"{BASE}/jurisdictions/ny", f"{BASE}/map.png?state=NY"),
        ("/jurisdictions/dc", f"{BASE}/jurisdictions/dc", f"{BASE}/map.png?state=DC"),
    ],
)  # fmt: skip
def test_pages_carry_share_tags_with_absolute_urls_to_an_image_that_answers(
    client: TestClient, path: str, url: str, image: str
) -> None:
    tags = share_tags(client.get(path, headers=HTML).text)
    assert tags["og:url"] == url and tags["og:type"] == "website"
    assert tags["og:image"] == tags["twitter:image"] == image
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:title"] == tags["twitter:title"] and tags["og:title"]
    assert tags["og:description"] == tags["twitter:description"]
    r = client.get(image.removeprefix(BASE))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"


def test_the_descriptions_say_the_counts_and_the_status(
    client: TestClient, session: Session
) -> None:
    factories.vote(session, factories.jurisdiction(session, "06085"), held_on=date(2010, 9, 28))
    session.commit()
    home = share_tags(client.get("/", headers=HTML).text)
    assert home["og:title"] == "Secure Communities opt-out campaigns"
    assert re.search(r"^Counties by campaign status, .+: .*Vote passed 1\b", home["og:description"])
    state = share_tags(client.get("/states/CA", headers=HTML).text)
    assert state["og:title"] == "California: Secure Communities opt-out campaigns"
    assert "No action 57" in state["og:description"]  # 58 counties, one voted
    dossier = share_tags(client.get("/jurisdictions/06085", headers=HTML).text)
    assert dossier["og:title"] == "Santa Clara County, CA"
    assert dossier["og:description"].startswith("Vote passed since Sep 28, 2010")


def test_private_notes_never_reach_the_share_tags_and_names_are_escaped(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06001")
    j.name = 'Alameda County "East" <b>'
    j.private_notes = "Supervisor Chan is persuadable"
    session.commit()
    sign_in(client, credentials, "viewer")  # who reads the notes on the page itself
    page = client.get("/jurisdictions/ca-alameda-county", headers=HTML).text
    assert "persuadable" in page
    head = page.split("</head>")[0]
    assert "persuadable" not in head and "<b>" not in head
    tags = share_tags(head)
    assert len(tags) == 13  # every tag parsed: nothing broke out of an attribute
    assert tags["og:title"] == "Alameda County &#34;East&#34; &lt;b&gt;, CA"
