"""The OpenAPI document as a partner's contract: errors as problem+json, the API key as a
security scheme on the operations that take one, the response headers each operation
sends, the tags described. FastAPI documents the routes' parameters and bodies; this adds
what it cannot see, from marks on the routes' dependencies (`conventions.answers`,
`auth.REQUIRES`) and from the routes themselves."""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from ..enums import Access
from ..http import problems
from ..http.auth import ACCESS_WORDS, REQUIRES
from ..schemas import Problem
from . import examples
from .conventions import ANSWERS, SENDS, header

SCHEME = "apiKey"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key, as `Authorization: Bearer <key>` (or `X-API-Key: <key>`). "
    "Reading needs none; with a key, answers include private notes and documents. A key's "
    "scope is read, write or admin, up to its owner's role: make your own on /account (or "
    "POST /api/v1/api-keys), or an operator makes one with `optout-tracker api-keys create`.",
}
WRITES = {"post", "patch", "put", "delete"}
WITH_BODY = {"post", "patch", "put"}
TAGS = [
    {"name": "jurisdictions", "description": "States, counties, cities and DC, with each "
     "one's campaign status (as of today, or `as_of` another day), its timeline and the "
     "written notice."},
    {"name": "agencies", "description": "The state identification bureaus, ICE, DHS and "
     "the FBI: who letters go to and who answers."},
    {"name": "votes", "description": "Council and board votes on opting out (or on the "
     "agreements around it): the events that open a campaign."},
    {"name": "letters", "description": "Letters sent to a state bureau, ICE or DHS: "
     "notices, opt-out requests and chasers, each with the date an answer is due."},
    {"name": "responses", "description": "The answers received: denials, meetings, "
     "adjusted activation dates, confirmations."},
    {"name": "announcements", "description": "What an agency announced to every campaign "
     "in its scope (national, or one state's)."},
    {"name": "documents", "description": "Scans, PDFs and images attached to letters and "
     "responses."},
    {"name": "follow-up", "description": "The next steps of every campaign: overdue "
     "answers, notices to send, votes to hold."},
    {"name": "follows", "description": "The caller's own follows: alerts by e-mail when a "
     "jurisdiction, a state or everything changes."},
    {"name": "status", "description": "Counts per status, and every jurisdiction's status "
     "by FIPS code for a partner's own map."},
    {"name": "changes", "description": "Every created, updated and deleted record in "
     "order, for a partner keeping a copy in sync."},
    {"name": "export", "description": "Every record of a kind as CSV, with the list's "
     "filters."},
    {"name": "import", "description": "A CSV of records created and updated at once: all "
     "rows or none."},
    {"name": "audit", "description": "Who changed what, and when (admins)."},
    {"name": "api keys", "description": "Keys for partner tools; a key is shown once."},
    {"name": "webhooks", "description": "Subscriptions that receive every change as a "
     "signed POST (admins)."},
]  # fmt: skip


def install(app: FastAPI, prefix: str, api_routers: Sequence[APIRouter]) -> None:
    """Make `app.openapi` build the document as described above, once."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema["components"]
        components["schemas"]["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for defs in components["schemas"]["Problem"].pop("$defs", {}).items():
            components["schemas"].setdefault(*defs)
        examples.document(components["schemas"])
        components["schemas"].pop("HTTPValidationError", None)
        components["schemas"].pop("ValidationError", None)
        components["securitySchemes"] = {SCHEME: SECURITY_SCHEME}
        # By default a key is optional (it shows private fields); operations that need one
        # say so. A generator then types the public reads as callable without a key.
        schema["security"] = [{}, {SCHEME: []}]
        components["headers"] = HEADERS
        schema["tags"] = [t for t in TAGS if t["name"] in _tags_used(schema)]
        for route in _routes(api_routers):
            for method in route.methods or ():
                operation = schema["paths"][prefix + route.path_format][method.lower()]
                _document(operation, method.lower(), route)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(operation: dict[str, Any], method: str, route: APIRoute) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"] = problems.documented(422)[422]
    if method in WRITES:  # a conflict with what is stored: a GET has none
        responses |= _statuses(problems.documented(409))
    if method in WITH_BODY:
        responses |= _statuses(problems.documented(413))
    calls = list(_dependency_calls(route.dependant))
    sends: list[str] = []
    for call in calls:
        responses |= _statuses(getattr(call, ANSWERS, {}))
        sends += getattr(call, SENDS, ())
    success = str(route.status_code or 200)
    if success != "204" and success in responses:
        if {"limit", "offset"} <= {p["name"] for p in operation.get("parameters", [])}:
            sends.append("Link")
        _add_headers(responses[success], sends)
    if "503" in responses:  # busy: no connection free, or SQLite's writer lock held
        _add_headers(responses["503"], ["Retry-After"])
    for answer in responses.values():
        _add_headers(answer, ["X-Request-ID"])
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header":  # a plain string, as HTTP knows it
            parameter["schema"].pop("title", None)
    needed = max((getattr(c, REQUIRES) for c in calls if hasattr(c, REQUIRES)), default=None)
    if needed is not None and needed > Access.public:  # the others take the document's
        operation["security"] = [{SCHEME: []}]
        who = f"Needs {ACCESS_WORDS[needed]}."
        operation["description"] = f"{operation.get('description', '')} {who}".strip()
    else:  # anyone may: a wrong key is a 401, never a 403
        responses.pop("403", None)
    if not any(p["in"] == "path" for p in operation.get("parameters", [])):
        responses.pop("404", None)  # nothing named in the path to be missing


HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The version of what was answered: send it back in If-None-Match "
        "to revalidate (304), or in If-Match to edit or delete it (412 if it changed).",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "Where the record made can be read.",
        "schema": {"type": "string", "format": "uri"},
    },
    "Link": {
        "description": 'The first, previous, next and last pages (RFC 8288: rel="next"...).',
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` on the stored first answer to a retry with the same "
        "Idempotency-Key and body; absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    },
    "X-Request-ID": {
        "description": "The request's id (the one the caller sent, or a new one), also in "
        "the server's logs: quote it when reporting a problem.",
        "schema": {"type": "string"},
    },
}


def _add_headers(answer: dict[str, Any], names: Sequence[str]) -> None:
    # A new dict: the one there may be shared by several operations (conventions.CREATED).
    answer["headers"] = {**answer.get("headers", {}), **{name: header(name) for name in names}}


def _statuses(responses: dict[int | str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(status): {**doc} for status, doc in responses.items()}


def _tags_used(schema: dict[str, Any]) -> set[str]:
    return {
        t for ops in schema["paths"].values() for op in ops.values() for t in op.get("tags", [])
    }


def _routes(routers: Sequence[APIRouter]) -> Iterator[APIRoute]:
    return (r for router in routers for r in router.routes if isinstance(r, APIRoute))


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)
