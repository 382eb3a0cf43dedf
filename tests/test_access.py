"""Who may call what: the access matrix over every API route, private notes, security headers.

The matrix is generated from the app's own route table, and every route must be listed in
`LEVELS`, so a route added without deciding who may call it fails here.
"""

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.config import Settings
from optout_tracker.enums import Access, AgencyKind, FollowTarget, Scope
from optout_tracker.main import create_app
from optout_tracker.models import Follow
from optout_tracker.schemas import WebhookCreate
from optout_tracker.security import CLI
from optout_tracker.services import accounts, documents, webhooks
from tests import factories
from tests.conftest import Credentials
from tests.test_login import sign_in

API = "/api/v1"
PROBLEM = "application/problem+json"
CALLERS: tuple[str | None, ...] = (None, "read", "write", "admin")
CALLER_ACCESS = {
    None: Access.public,
    "read": Access.read,
    "write": Access.write,
    "admin": Access.admin,
}

PUBLIC, READ, WRITE, ADMIN = Access.public, Access.read, Access.write, Access.admin


def _resource(collection: str, id_name: str) -> dict[tuple[str, str], Access]:
    """The usual CRUD rule: reads public, POST/PATCH need write, DELETE needs admin."""
    item = f"{API}/{collection}/{{{id_name}}}"
    return {
        ("GET", f"{API}/{collection}"): PUBLIC,
        ("POST", f"{API}/{collection}"): WRITE,
        ("GET", item): PUBLIC,
        ("PATCH", item): WRITE,
        ("DELETE", item): ADMIN,
    }


# (method, path template) -> the least access that may call it. Every API route must be here.
LEVELS: dict[tuple[str, str], Access] = {
    **_resource("jurisdictions", "jurisdiction_id"),
    ("GET", f"{API}/jurisdictions/{{jurisdiction_id}}/timeline"): PUBLIC,
    **_resource("agencies", "agency_id"),
    **_resource("votes", "vote_id"),
    **_resource("letters", "letter_id"),
    **_resource("responses", "response_id"),
    **_resource("announcements", "announcement_id"),
    # Documents: a private one is a 404 for anonymous callers, not a 401 (services/documents.py).
    ("GET", f"{API}/letters/{{letter_id}}/documents"): PUBLIC,
    ("POST", f"{API}/letters/{{letter_id}}/documents"): WRITE,
    ("GET", f"{API}/responses/{{response_id}}/documents"): PUBLIC,
    ("POST", f"{API}/responses/{{response_id}}/documents"): WRITE,
    ("GET", f"{API}/documents/{{document_id}}"): PUBLIC,
    ("GET", f"{API}/documents/{{document_id}}/file"): PUBLIC,
    ("DELETE", f"{API}/documents/{{document_id}}"): ADMIN,
    ("POST", f"{API}/jurisdictions/{{jurisdiction_id}}/notices"): WRITE,
    ("GET", f"{API}/status/summary"): PUBLIC,
    ("GET", f"{API}/status/by-fips"): PUBLIC,
    **{
        ("GET", f"{API}/export/{kind}.csv"): PUBLIC
        for kind in (
            "jurisdictions",
            "agencies",
            "votes",
            "letters",
            "responses",
            "announcements",
        )
    },  # fmt: skip
    ("GET", f"{API}/audit"): ADMIN,
    ("POST", f"{API}/import/{{kind}}"): WRITE,
    ("GET", f"{API}/api-keys"): READ,
    ("POST", f"{API}/api-keys"): READ,
    ("DELETE", f"{API}/api-keys/{{api_key_id}}"): READ,
    ("GET", f"{API}/webhooks"): ADMIN,
    ("POST", f"{API}/webhooks"): ADMIN,
    ("GET", f"{API}/webhooks/{{webhook_id}}"): ADMIN,
    ("PATCH", f"{API}/webhooks/{{webhook_id}}"): ADMIN,
    ("DELETE", f"{API}/webhooks/{{webhook_id}}"): ADMIN,
    ("GET", f"{API}/webhooks/{{webhook_id}}/deliveries"): ADMIN,
    ("GET", f"{API}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}"): ADMIN,
    ("POST", f"{API}/webhooks/{{webhook_id}}/test"): ADMIN,
    ("POST", f"{API}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver"): ADMIN,
    ("GET", f"{API}/follow-up"): PUBLIC,
    ("GET", f"{API}/changes"): PUBLIC,
    ("GET", f"{API}/follows"): READ,
    ("POST", f"{API}/follows"): READ,
    ("GET", f"{API}/follows/{{follow_id}}"): READ,
    ("PATCH", f"{API}/follows/{{follow_id}}"): READ,
    ("DELETE", f"{API}/follows/{{follow_id}}"): READ,
}
# A person's own: the matrix's keys are made on the command line, so they own none (403).
OWNED = {path for _, path in LEVELS if path.startswith((f"{API}/follows", f"{API}/api-keys"))}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every APIRoute under /api/v1, included routers resolved."""
    found: list[tuple[str, str]] = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        path = context.path or ""
        if path == API or path.startswith(API + "/"):
            found.extend((method, path) for method in sorted(context.methods or ()))
    return found


@dataclass
class Records:
    """Real ids for every path parameter, and the records that carry a private marker."""

    ids: dict[str, int | str]
    marker: str

    def url(self, path: str) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in self.ids, f"no test id for path parameter {name!r} in {path}"
            return str(self.ids[name])

        return re.sub(r"\{(\w+)\}", fill, path)


@pytest.fixture
def records(session: Session, credentials: Credentials) -> Records:
    marker = "PRIVATE-MARKER-7f3a9c1e"
    santa_clara = factories.jurisdiction(session)
    santa_clara.private_notes = f"{marker} (jurisdiction)"
    session.add(santa_clara)
    ice = factories.agency(session, AgencyKind.ice)
    vote = factories.vote(session, santa_clara, private_notes=f"{marker} (vote)")
    letter = factories.letter(session, santa_clara, ice)
    response = factories.response(session, santa_clara, ice, letter_id=letter.id)
    said = factories.announcement(session, ice, private_notes=f"{marker} (announcement)")
    spare_key, _ = accounts.create_api_key(session, "spare key to revoke", Scope.read, CLI)
    webhook = webhooks.create(session, WebhookCreate(url="https://partner.example/hook"), CLI)
    test_delivery = webhooks.send_test(session, webhook)
    scan = documents.attach(
        session, response=response, filename="answer.txt", data=f"{marker} (document)".encode(),
        public=False, actor=CLI,
    )  # fmt: skip
    credentials.token("admin")  # the keys callers use exist before the spare one is revoked
    follower = credentials.user("viewer")
    follow = Follow(user_id=follower.id or 0, target=FollowTarget.all)
    session.add(follow)
    session.commit()
    ids = {
        "jurisdiction_id": santa_clara.id,
        "agency_id": ice.id,
        "vote_id": vote.id,
        "letter_id": letter.id,
        "response_id": response.id,
        "announcement_id": said.id,
        "api_key_id": spare_key.id,
        "webhook_id": webhook.id,
        "delivery_id": test_delivery.id,
        "document_id": scan.id,
        "follow_id": follow.id,
    }
    path_values: dict[str, int | str] = {k: int(v or 0) for k, v in ids.items()}
    path_values["kind"] = "votes"  # /import/{kind}
    return Records(path_values, marker)


def app_of(client: TestClient) -> FastAPI:
    return cast(FastAPI, client.app)


def lenient(client: TestClient) -> TestClient:
    """A client that answers 500 instead of re-raising, to see what a caller would get."""
    return TestClient(client.app, raise_server_exceptions=False)


def is_problem(response: Any, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers.get("content-type", "").startswith(PROBLEM)
        and response.json().get("status") == status
    )


# The access matrix


def test_every_api_route_has_an_access_level(client: TestClient) -> None:
    routes = api_routes(app_of(client))
    assert len(routes) >= 30, routes
    assert len(routes) == len(set(routes)), "a (method, path) is routed twice"
    missing = sorted(set(routes) - set(LEVELS))
    stale = sorted(set(LEVELS) - set(routes))
    assert not missing, f"routes without an access level in LEVELS: {missing}"
    assert not stale, f"LEVELS lists routes the app no longer has: {stale}"


def _ordered(routes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # Deletes last, so that earlier calls still find the records they delete.
    return sorted(routes, key=lambda r: (r[0] == "DELETE", r[1], r[0]))


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
def test_access_matrix(
    client: TestClient, credentials: Credentials, records: Records, caller: str | None
) -> None:
    http = lenient(client)
    headers = credentials.headers(caller)
    access = CALLER_ACCESS[caller]
    failures = []
    routes = _ordered(api_routes(app_of(client)))
    for method, path in routes:
        need = LEVELS[(method, path)]
        body: dict[str, Any] | None = {} if method in {"POST", "PATCH"} else None
        r = http.request(method, records.url(path), headers=headers, json=body)
        what = f"{method} {path} as {caller or 'anonymous'} (needs {need.name}): {r.status_code}"
        if r.status_code >= 500:
            failures.append(f"{what} server error {r.text[:200]}")
        elif access >= need:
            if path in OWNED and is_problem(r, 403) and "no owner" in r.json()["detail"]:
                continue
            if r.status_code in {401, 403}:
                failures.append(f"{what} refused: {r.text[:200]}")
        elif caller is None:
            detail = r.json().get("detail", "") if r.status_code == 401 else ""
            if not (
                is_problem(r, 401)
                and "API key" in detail
                and "api-keys create" in detail
                and r.headers.get("www-authenticate", "").startswith("Bearer")
            ):
                failures.append(f"{what}, expected a 401 problem saying how to get a key: {r.text}")
        elif not is_problem(r, 403):
            failures.append(f"{what}, expected a 403 problem: {r.text[:200]}")
    assert not failures, "\n".join(failures)
    assert len(routes) == len(LEVELS)


def test_a_wrong_or_revoked_key_is_refused_not_treated_as_anonymous(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    http = lenient(client)
    wrong = {"Authorization": f"Bearer optk_{'0' * 12}_not-a-real-key"}
    r = http.get(f"{API}/jurisdictions?limit=1", headers=wrong)
    assert is_problem(r, 401), r.text[:300]
    assert "api-keys create" in r.json()["detail"]
    key, token = accounts.create_api_key(session, "to be revoked", Scope.write, CLI)
    session.commit()
    r = http.delete(f"{API}/api-keys/{key.id}", headers=credentials.headers("admin"))
    assert r.status_code == 200, r.text
    r = http.get(f"{API}/votes?limit=1", headers={"Authorization": f"Bearer {token}"})
    assert is_problem(r, 401), r.text[:300]
    assert "revoked" in r.json()["detail"]


# Private notes


def _query_params(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    spec = app.openapi()
    return {
        (method.upper(), path): {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }


def _get_urls(app: FastAPI, records: Records) -> Iterator[str]:
    """Every GET endpoint: as is, one page of 500, and pages filtered to the marked records."""
    params = _query_params(app)
    santa_clara = records.ids["jurisdiction_id"]
    for method, path in api_routes(app):
        if method != "GET":
            continue
        url = records.url(path)
        yield url
        accepted = params.get((method, path), set())
        if "limit" in accepted:
            yield f"{url}?limit=500"
        for name, value in (
            ("jurisdiction_id", santa_clara),
            ("fips", "06085"),
            ("q", "Santa Clara"),
            ("state", "CA"),
        ):
            if name in accepted:
                yield f"{url}?{name}={value}" + ("&limit=500" if "limit" in accepted else "")


def _records_in(body: Any) -> Iterator[dict[str, Any]]:
    """Jurisdictions and votes in a list, detail or timeline body."""
    if isinstance(body, dict):
        if "items" in body:
            for item in body["items"]:
                yield from _records_in(item.get("record", item))
        elif "id" in body and ("slug" in body or "outcome" in body):
            yield body


def test_anonymous_callers_never_see_private_notes(
    client: TestClient, records: Records, credentials: Credentials
) -> None:
    http = lenient(client)
    seen = {"jurisdiction": 0, "vote": 0}
    for url in _get_urls(app_of(client), records):
        r = http.get(url)
        assert r.status_code < 500, (url, r.text)
        assert records.marker not in r.text, f"GET {url} shows a private note to anyone"
        if r.status_code == 200 and "json" in r.headers["content-type"]:
            for record in _records_in(r.json()):
                assert "private_notes" not in record, (url, record)
                if record["id"] == records.ids["jurisdiction_id"] and "slug" in record:
                    seen["jurisdiction"] += 1
                if record["id"] == records.ids["vote_id"] and "outcome" in record:
                    seen["vote"] += 1
    # The marked records were in the answers, so the absence above means something.
    assert seen["jurisdiction"] >= 3, seen  # detail, filtered lists
    assert seen["vote"] >= 3, seen  # detail, filtered list, timeline


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
def test_key_holders_see_private_notes(
    client: TestClient, records: Records, credentials: Credentials, scope: str
) -> None:
    headers = credentials.headers(scope)
    j, v = records.ids["jurisdiction_id"], records.ids["vote_id"]
    marked = {
        f"{API}/jurisdictions/{j}": lambda b: [b],
        f"{API}/jurisdictions?fips=06085": lambda b: b["items"],
        f"{API}/votes/{v}": lambda b: [b],
        f"{API}/votes?jurisdiction_id={j}&limit=500": lambda b: b["items"],
        f"{API}/jurisdictions/{j}/timeline": lambda b: [
            e["record"] for e in b["items"] if e["type"] == "vote"
        ],
    }
    for url, pick in marked.items():
        r = client.get(url, headers=headers)
        assert r.status_code == 200, (url, r.text)
        found = [x for x in pick(r.json()) if x["id"] in {j, v}]
        assert found, url
        for record in found:
            assert records.marker in (record["private_notes"] or ""), (url, record)


def test_private_notes_written_through_the_api_stay_private(
    client: TestClient, records: Records, credentials: Credentials
) -> None:
    marker = "API-WRITTEN-PRIVATE-4b1d"
    writer = credentials.headers("write")
    j = records.ids["jurisdiction_id"]
    r = client.patch(f"{API}/jurisdictions/{j}", headers=writer, json={"private_notes": marker})
    assert r.status_code == 200, r.text
    assert r.json()["private_notes"] == marker
    vote = {
        "jurisdiction_id": j,
        "body": "Board of Supervisors",
        "held_on": "2010-06-01",
        "outcome": "tabled",
        "private_notes": marker,
    }
    r = client.post(f"{API}/votes", headers=writer, json=vote)
    assert r.status_code == 201, r.text
    vote_id = r.json()["id"]
    for url in (
        f"{API}/jurisdictions/{j}",
        f"{API}/votes/{vote_id}",
        f"{API}/votes?jurisdiction_id={j}&limit=500",
        f"{API}/jurisdictions/{j}/timeline",
        f"{API}/jurisdictions?q=Santa%20Clara&limit=500",
    ):
        r = client.get(url)
        assert r.status_code == 200, r.text
        assert marker not in r.text, url
        assert "private_notes" not in r.text, url


def test_etag_differs_between_the_public_and_the_private_representation(
    client: TestClient, records: Records, credentials: Credentials
) -> None:
    url = f"{API}/jurisdictions/{records.ids['jurisdiction_id']}"
    anonymous_tag = client.get(url).headers["etag"]
    r = client.get(url, headers={**credentials.headers("read"), "If-None-Match": anonymous_tag})
    assert r.status_code == 200
    assert records.marker in r.json()["private_notes"]


# Security headers


def _csp(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy", "")
    directives = (d.split() for d in header.split(";") if d.strip())
    return {d[0].lower(): d[1:] for d in directives}


def assert_not_frameable(response: Any) -> None:
    csp = _csp(response)
    assert csp, "no Content-Security-Policy"
    script_src = csp.get("script-src", csp.get("default-src", []))
    assert script_src, csp
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, csp
    assert csp.get("frame-ancestors") == ["'none'"], csp
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    assert "camera=()" in response.headers.get("permissions-policy", "")
    assert "geolocation=()" in response.headers.get("permissions-policy", "")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"{API}/status/summary", 200),
        ("GET", f"{API}/jurisdictions?limit=1", 200),
        ("GET", f"{API}/no-such-thing", 404),
        ("GET", f"{API}/jurisdictions/2147483647", 404),
        ("GET", "/no-such-page", 404),
        ("GET", f"{API}/jurisdictions?limit=0", 422),
        ("POST", f"{API}/votes", 401),
        ("PUT", f"{API}/votes", 405),
        ("GET", "/openapi.json", 200),
    ],
)
def test_security_headers(client: TestClient, method: str, path: str, status: int) -> None:
    r = lenient(client).request(method, path)
    assert r.status_code == status, r.text
    assert_not_frameable(r)


def test_security_headers_on_a_body_over_the_limit(client: TestClient) -> None:
    limit = app_of(client).state.settings.max_body_bytes
    r = lenient(client).post(f"{API}/votes", content=b"x" * (limit + 1))
    assert r.status_code == 413
    assert_not_frameable(r)


@pytest.mark.parametrize("path", ["/embed/map", "/embed/no-such-embed"])
def test_embeds_may_be_framed_anywhere(client: TestClient, path: str) -> None:
    r = lenient(client).get(path)
    assert r.status_code in {200, 404}
    csp = _csp(r)
    assert csp.get("frame-ancestors") == ["*"], csp
    assert "'unsafe-inline'" not in csp.get("script-src", ["'none'"]), csp
    assert "x-frame-options" not in r.headers
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert "referrer-policy" in r.headers


def test_an_embed_lookalike_path_is_not_frameable(client: TestClient) -> None:
    assert_not_frameable(lenient(client).get("/embedded"))


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "https://optout.example.org"])
def test_strict_transport_security_only_when_the_site_is_https(
    app_settings: Settings, base_url: str
) -> None:
    app = create_app(app_settings.model_copy(update={"base_url": base_url}))
    with TestClient(app, base_url=base_url) as c:
        headers = c.get("/healthz-not-here").headers
    app.state.engine.dispose()
    if base_url.startswith("https"):
        assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    else:  # over http the header means nothing, and a laptop must stay reachable
        assert "strict-transport-security" not in headers


def test_docs_page_scripts_are_allowed_by_its_csp(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    script_src = _csp(r).get("script-src", [])
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", r.text, re.S)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src, "an inline script the CSP blocks"


def test_if_match_accepts_the_tag_of_either_view_of_the_current_version(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    vote = factories.vote(session, j)
    session.commit()
    url = f"{API}/votes/{vote.id}"
    public_tag = client.get(url).headers["etag"]
    private_tag = client.get(url, headers=credentials.headers("read")).headers["etag"]
    assert public_tag != private_tag
    write = credentials.headers("write")
    assert (
        client.patch(url, json={"yes": 4}, headers={**write, "If-Match": public_tag}).status_code
        == 200
    )
    r = client.patch(url, json={"yes": 3}, headers={**write, "If-Match": private_tag})
    assert r.status_code == 412  # that version is gone now


def test_answers_made_for_a_known_caller_are_never_cached(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    santa_clara = factories.jurisdiction(session)
    vote = factories.vote(session, santa_clara, private_notes="Supervisor's private number")
    session.commit()
    paths = [f"{API}/votes/{vote.id}", f"{API}/votes", f"{API}/export/votes.csv"]
    for path in paths:
        anonymous = client.get(path)
        assert anonymous.status_code == 200
        assert "no-store" not in anonymous.headers.get("cache-control", ""), path
        reader = client.get(path, headers=credentials.headers("read"))
        assert reader.status_code == 200
        assert reader.headers["cache-control"] == "private, no-store", path
        for answer in (anonymous, reader):  # one URL, two answers: caches must tell them apart
            assert "Authorization, X-API-Key, Cookie" in answer.headers.get("vary", ""), path
    # A signed-in reader's dossier shows private notes too.
    credentials.user("viewer")
    sign_in(client, "viewer@example.org")
    page = client.get(f"/jurisdictions/{santa_clara.slug}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
