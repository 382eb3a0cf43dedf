"""/openapi.json as a partner reads it: the key as a security scheme where one is needed,
the response headers and errors each operation really gives, described tags, every
reference resolved; and /docs and /redoc working without any outside asset."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories
from tests.conftest import Credentials
from tests.test_openapi_headers import api_routes, operations

API = "/api/v1"


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    for ref in refs(spec):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_a_key_is_required_exactly_where_the_route_needs_one(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert spec["security"] == [{}, {"apiKey": []}]  # a key is welcome anywhere
    ops = operations(spec)
    required = {key for key, op in ops.items() if op.get("security") == [{"apiKey": []}]}
    for key in [("POST", f"{API}/votes"), ("PATCH", f"{API}/votes/{{vote_id}}"),
                ("DELETE", f"{API}/votes/{{vote_id}}"), ("GET", f"{API}/audit"),
                ("GET", f"{API}/webhooks"), ("GET", f"{API}/follows")]:  # fmt: skip
        assert key in required, key
        assert "Needs " in ops[key]["description"]
    for key in [("GET", f"{API}/votes"), ("GET", f"{API}/jurisdictions/{{jurisdiction_id}}"),
                ("GET", f"{API}/status/by-fips")]:  # fmt: skip
        assert key not in required and "security" not in ops[key], key


def test_errors_are_those_each_method_can_give(spec: dict[str, Any]) -> None:
    for (method, path), op in operations(spec).items():
        answers = op["responses"]
        if method == "GET":
            assert "409" not in answers and "413" not in answers, f"{method} {path}"
        if "{" not in path:  # nothing named to be missing
            assert "404" not in answers, f"{method} {path}"
        if "security" not in op:  # anyone may call it: a bad key is a 401
            assert "403" not in answers, f"{method} {path}"
        if path.startswith(API):
            assert answers["503"]["headers"]["Retry-After"], f"{method} {path}"
        for status, answer in answers.items():
            assert "X-Request-ID" in answer["headers"], f"{method} {path} {status}"


def test_the_headers_each_kind_of_operation_sends_are_documented(spec: dict[str, Any]) -> None:
    ops = operations(spec)

    def headers(method: str, path: str, status: str) -> set[str]:
        return set(ops[(method, f"{API}{path}")]["responses"][status]["headers"])

    assert {"Location", "ETag", "Idempotent-Replayed"} <= headers("POST", "/letters", "201")
    assert "ETag" in headers("PATCH", "/letters/{letter_id}", "200")
    assert "ETag" in headers("GET", "/letters/{letter_id}", "200")
    assert "ETag" in headers("GET", "/letters/{letter_id}", "304")
    assert "Link" in headers("GET", "/letters", "200")
    assert "Location" in headers("POST", "/webhooks", "201")
    assert "ETag" not in headers("POST", "/webhooks", "201")  # webhooks have no versions


def test_documented_headers_are_sent(
    client: TestClient, session: Session, credentials: Credentials, spec: dict[str, Any]
) -> None:
    """What the document promises, a real answer carries."""
    ops = operations(spec)
    write = credentials.headers("write")
    j = factories.jurisdiction(session, "06085")
    session.commit()
    body = {"jurisdiction_id": j.id, "body": "Board of Supervisors", "held_on": "2010-09-28",
            "outcome": "passed"}  # fmt: skip
    answers = {
        ("POST", f"{API}/votes", "201"): client.post(f"{API}/votes", json=body, headers=write),
        ("GET", f"{API}/votes", "200"): client.get(f"{API}/votes"),
    }
    made = answers[("POST", f"{API}/votes", "201")]
    one = f"{API}/votes/{{vote_id}}"
    answers[("GET", one, "200")] = client.get(made.headers["Location"])
    answers[("PATCH", one, "200")] = client.patch(
        made.headers["Location"],
        json={"yes": 4},
        headers={**write, "If-Match": made.headers["ETag"]},
    )
    for (method, path, status), r in answers.items():
        assert str(r.status_code) == status, r.text
        documented = {h.lower() for h in ops[(method, path)]["responses"][status]["headers"]}
        documented -= {"idempotent-replayed"}  # only on a replay
        assert documented <= set(r.headers.keys()), (method, path, documented - set(r.headers))


def test_every_tag_is_described(spec: dict[str, Any]) -> None:
    described = {t["name"]: t["description"] for t in spec["tags"]}
    used = {tag for op in operations(spec).values() for tag in op.get("tags", [])}
    assert used == set(described) and all(described.values())


def test_operation_ids_are_the_route_names(spec: dict[str, Any]) -> None:
    assert {op["operationId"] for op in operations(spec).values()} >= set(api_routes())


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_every_asset_from_the_site(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert assets, "no scripts or styles found"
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not on the site"
        assert client.get(asset).status_code == 200, asset
    csp = r.headers["content-security-policy"]
    assert "http" not in csp, csp  # no outside origin is allowed either
