"""If-Match, If-None-Match and Idempotency-Key are documented on exactly the operations
whose dependencies honour them, with the 412 and 304 answers that come with them."""

import importlib
import pkgutil
import re
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker import api
from optout_tracker.paths import PACKAGE_DIR
from tests import factories
from tests.conftest import Credentials

API = "/api/v1"
# Each header, and the answer a request sending it may get in place of the usual one.
ANSWER = {"If-Match": "412", "If-None-Match": "304", "Idempotency-Key": None}
RECORDS = {
    "jurisdictions": "jurisdiction_id",
    "agencies": "agency_id",
    "votes": "vote_id",
    "letters": "letter_id",
    "responses": "response_id",
    "announcements": "announcement_id",
}


def api_routes() -> dict[str, APIRoute]:
    """Every route of every router in api/, by name (the operation id)."""
    routes: dict[str, APIRoute] = {}
    for info in pkgutil.iter_modules(api.__path__):
        router = getattr(importlib.import_module(f"{api.__name__}.{info.name}"), "router", None)
        if isinstance(router, APIRouter):
            routes |= {r.name: r for r in router.routes if isinstance(r, APIRoute)}
    return routes


def honoured(dependant: Dependant) -> set[str]:
    """The headers of ANSWER that the route or one of its dependencies takes as a parameter."""
    names = {field.alias for field in dependant.header_params} & set(ANSWER)
    for dependency in dependant.dependencies:
        names |= honoured(dependency)
    return names


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }


def documented(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_each_operation_documents_the_headers_its_dependencies_honour(spec: dict[str, Any]):
    routes = api_routes()
    for (method, path), operation in operations(spec).items():
        route = routes.get(operation["operationId"])
        expected = honoured(route.dependant) if route is not None else set()
        assert documented(operation) & set(ANSWER) == expected, f"{method} {path}"
        for header, status in ANSWER.items():
            if status is not None:
                assert (status in operation["responses"]) == (header in expected), (
                    f"{method} {path}: {status} documented, {header} not honoured or vice versa"
                )


def test_the_headers_are_read_only_through_their_dependencies():
    """Else a route could honour a header that the document does not show."""
    read = re.compile(r"headers(\.get\(|\[)\s*[\"'](if-match|if-none-match|idempotency-key)", re.I)
    readers = [
        str(p.relative_to(PACKAGE_DIR))
        for p in PACKAGE_DIR.rglob("*.py")
        if read.search(p.read_text(encoding="utf-8"))
    ]
    # The public cache answers anonymous reads before any route: README, Performance and caching.
    assert readers == ["http/public_cache.py"]


def test_the_record_operations_and_the_creating_posts_document_their_headers(
    spec: dict[str, Any],
):
    by_header: dict[str, set[tuple[str, str]]] = {h: set() for h in ANSWER}
    for key, operation in operations(spec).items():
        for header in documented(operation) & set(ANSWER):
            by_header[header].add(key)
    one = {f"{API}/{records}/{{{id_}}}" for records, id_ in RECORDS.items()}
    one.add(f"{API}/follows/{{follow_id}}")  # a person's own, not a record anyone reads
    document = f"{API}/documents/{{document_id}}"  # never edited: no PATCH
    assert by_header["If-Match"] == {
        *((m, p) for p in one for m in ("PATCH", "DELETE")),
        ("DELETE", document),
    }
    assert by_header["If-None-Match"] == {
        *(("GET", p) for p in one),
        ("GET", document),
        ("GET", f"{document}/file"),
    }
    assert by_header["Idempotency-Key"] == {
        *(("POST", f"{API}/{records}") for records in RECORDS),
        ("POST", f"{API}/letters/{{letter_id}}/documents"),
        ("POST", f"{API}/responses/{{response_id}}/documents"),
        ("POST", f"{API}/import/{{kind}}"),
        ("POST", f"{API}/api-keys"),
        ("POST", f"{API}/follows"),
        ("POST", f"{API}/webhooks"),
        ("POST", f"{API}/webhooks/{{webhook_id}}/test"),
        ("POST", f"{API}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver"),
        ("POST", f"{API}/jurisdictions/{{jurisdiction_id}}/notices"),
    }


@pytest.mark.parametrize(
    ("method", "path", "header", "status"),
    [
        ("PATCH", "/votes/{vote_id}", "If-Match", "412"),
        ("DELETE", "/votes/{vote_id}", "If-Match", "412"),
        ("GET", "/votes/{vote_id}", "If-None-Match", "304"),
        ("POST", "/votes", "Idempotency-Key", None),
    ],
)
def test_a_sample_of_honoured_headers(
    spec: dict[str, Any], method: str, path: str, header: str, status: str | None
):
    operation = spec["paths"][API + path][method.lower()]
    assert header in documented(operation)
    if status is not None:
        assert status in operation["responses"]


# Documented before by the shape of their paths, though nothing of theirs reads the header.
IGNORED = [
    ("DELETE", "/api-keys/{api_key_id}"),
    ("GET", "/webhooks/{webhook_id}"),
    ("PATCH", "/webhooks/{webhook_id}"),
    ("DELETE", "/webhooks/{webhook_id}"),
    ("GET", "/webhooks/{webhook_id}/deliveries/{delivery_id}"),
]


@pytest.mark.parametrize(("method", "path"), IGNORED)
def test_operations_that_ignore_the_headers_do_not_document_them(
    spec: dict[str, Any], method: str, path: str
):
    operation = spec["paths"][API + path][method.lower()]
    assert not documented(operation) & set(ANSWER)
    assert not {"304", "412"} & set(operation["responses"])


def test_a_webhook_change_ignores_if_match(
    client: TestClient, session: Session, credentials: Credentials
):
    hook = factories.webhook(session)
    r = client.patch(
        f"{API}/webhooks/{hook.id}",
        json={"active": False},
        headers={**credentials.headers("admin"), "If-Match": '"stale"'},
    )
    assert r.status_code == 200, r.text


def test_the_header_descriptions(spec: dict[str, Any]):
    def description(method: str, path: str, header: str) -> str:
        parameters = spec["paths"][API + path][method]["parameters"]
        return next(p["description"] for p in parameters if p["name"] == header)

    assert description("post", "/votes", "Idempotency-Key") == (
        "A retry with the same key and body gets the first answer, not a duplicate."
    )
    assert description("post", "/api-keys", "Idempotency-Key") == (
        "A retry with the same key and body creates no second key: 409 names it."
    )
    assert description("patch", "/votes/{vote_id}", "If-Match") == (
        "The ETag you read: 412 if the record changed."
    )
    assert description("get", "/votes/{vote_id}", "If-None-Match") == (
        "An ETag you hold: 304 if still current."
    )
