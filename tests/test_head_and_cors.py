"""HEAD wherever GET is answered (RFC 9110), and CORS for the API from OPTOUT_CORS_ORIGINS:
a coalition's own web page reads the status by FIPS code from the browser."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from optout_tracker.config import Settings
from optout_tracker.main import create_app
from tests import factories
from tests.conftest import Credentials, make_settings, use_test_session

COALITION = "https://coalition.example"
PREFLIGHT = {"Origin": COALITION, "Access-Control-Request-Method": "GET"}


def test_every_kind_of_get_answers_head_with_its_headers_and_no_body(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    factories.vote(session, j)
    key = credentials.headers("read")
    reads = [
        ("/", {"Accept": "text/html"}),  # a cached public page
        (f"/jurisdictions/{j.slug}", {}),
        ("/api/v1/status/by-fips", {}),
        (f"/api/v1/jurisdictions/{j.id}", key),  # a record, for a known caller
        ("/api/v1/votes?limit=1", key),  # a list, with its Link header
        ("/api/v1/export/votes.csv", key),  # streamed
        ("/static/site.css", {}),
        ("/feeds/activity.atom", {}),
        ("/api/v1/jurisdictions/999999", {}),  # a 404 is a 404 either way
    ]
    for path, headers in reads:
        got, head = client.get(path, headers=headers), client.head(path, headers=headers)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        for name in ("content-type", "etag", "link", "cache-control", "content-length"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)


def test_head_is_refused_where_get_is(client: TestClient) -> None:
    r = client.head("/api/v1/import/votes")  # POST only
    assert r.status_code == 405 and "POST" in r.headers["allow"]


@pytest.fixture
def cors_client(session: Session, app_settings: Settings) -> Iterator[TestClient]:
    app = create_app(app_settings.model_copy(update={"cors_origins": f" {COALITION} , "}))
    use_test_session(app, session)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def test_a_coalition_page_reads_the_status_by_fips_from_the_browser(
    cors_client: TestClient, session: Session
) -> None:
    factories.jurisdiction(session, "06085")
    path = "/api/v1/status/by-fips"
    preflight = cors_client.options(
        path,
        headers={**PREFLIGHT, "Access-Control-Request-Headers": "authorization, if-none-match"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == COALITION
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "if-none-match" in allowed
    assert "Cookie" not in preflight.headers.get("access-control-allow-credentials", "")

    r = cors_client.get(path, headers={"Origin": COALITION})
    assert r.status_code == 200 and r.json()
    assert r.headers["access-control-allow-origin"] == COALITION
    exposed = {h.strip() for h in r.headers["access-control-expose-headers"].split(",")}
    assert exposed == {"Link", "ETag", "Location"}
    assert "Origin" in r.headers["vary"]  # a shared cache keeps one answer per origin


def test_other_origins_and_the_site_s_pages_get_no_cors(
    cors_client: TestClient, client: TestClient
) -> None:
    path = "/api/v1/status/by-fips"
    other = cors_client.get(path, headers={"Origin": "https://elsewhere.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    refused = cors_client.options(
        path, headers={**PREFLIGHT, "Origin": "https://elsewhere.example"}
    )
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    page = cors_client.get("/", headers={"Origin": COALITION})
    assert "access-control-allow-origin" not in page.headers  # forms stay same-origin
    # Unset (the default): no origin may read, and a preflight is not answered.
    unset = client.get(path, headers={"Origin": COALITION})
    assert "access-control-allow-origin" not in unset.headers
    assert client.options(path, headers=PREFLIGHT).status_code == 405


def test_any_origin_with_a_star(session: Session, app_settings: Settings) -> None:
    app = create_app(app_settings.model_copy(update={"cors_origins": "*"}))
    use_test_session(app, session)
    with TestClient(app) as c:
        r = c.get("/api/v1/status/summary", headers={"Origin": "https://anyone.example"})
    app.state.engine.dispose()
    assert r.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "bad", ["coalition.example", "https://coalition.example/map", "ftp://x.example", "https://"]
)
def test_a_cors_origin_that_is_not_one_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValidationError, match="OPTOUT_CORS_ORIGINS"):
        make_settings("sqlite://", cors_origins=f"{COALITION},{bad}")
