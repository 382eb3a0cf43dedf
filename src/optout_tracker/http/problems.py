"""The one place errors become responses: problem+json (RFC 9457)."""

import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from ..errors import AppError, Busy, FieldError, Message, english
from ..i18n import Sentence
from ..middleware import REQUEST_ID
from ..text_input import error_message, field_name

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"

# An error as a page for people: (request, status, title, detail, headers) -> the page, which
# says the title (English, a catalog message) and the detail in the reader's language.
HtmlError = Callable[[Request, int, str, Message, dict[str, str] | None], Response]


def problem(
    status: int,
    detail: Message,
    *,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": status,
        "title": title or HTTPStatus(status).phrase,
        "detail": english(detail),  # the API answers in English, whatever the request's language
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": english(e.message)} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` saying that these errors come as problem+json."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _field_error(error: dict[str, Any]) -> FieldError:
    loc = error["loc"]
    if error["type"] == "json_invalid":
        return FieldError(
            "body", f"is not valid JSON: {error.get('ctx', {}).get('error', error['msg'])}"
        )
    if error["type"] == "extra_forbidden":
        return FieldError(
            field_name(loc), "unknown parameter" if loc[0] == "query" else "unknown field"
        )
    if error["type"] == "missing" and loc == ("body",):
        return FieldError("body", "a JSON object is required")
    return FieldError(field_name(loc), error_message(error))


def install(app: FastAPI, html_error: HtmlError | None = None) -> None:
    """Turn every error into problem+json, or into `html_error`'s page for a browser asking
    for HTML outside /api/ (the pages hand it in: this layer knows no templates)."""

    def respond(
        request: Request,
        status: int,
        detail: Message,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> Response:
        wants_page = "text/html" in request.headers.get("accept", "")
        if html_error is None or request.url.path.startswith("/api/") or not wants_page:
            return problem(status, detail, title=title, errors=errors, headers=headers)
        return html_error(request, status, title or HTTPStatus(status).phrase, detail, headers)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        return respond(
            request, exc.status, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers
        )

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, exc: StaleDataError) -> Response:
        # Two writers raced: the other one's change landed between our read and our write.
        # Only a request that stated a precondition (If-Match) gets 412 for it; for the others
        # it is a conflict that a plain retry resolves.
        if "if-match" in request.headers:
            return respond(
                request,
                412,
                Sentence("the record changed while you were saving; fetch it again and retry"),
            )
        return respond(
            request,
            409,
            Sentence(
                "someone else saved this record at the same moment; nothing of yours was saved: "
                "retry"
            ),
        )

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> Response:
        # Input checks come first; this catches a value the database still refuses.
        log.info("data error: %s", exc.orig)
        return respond(request, 422, Sentence("a value in the request cannot be stored"))

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError) -> Response:
        # Checks run before writing; this is a concurrent request claiming the same value.
        log.info("integrity error: %s", exc.orig)
        return respond(
            request, 409, Sentence("the change conflicts with data saved at the same moment; retry")
        )

    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: OperationalError) -> Response:
        if "database is locked" not in str(exc.orig):
            raise exc  # to the catch-all below, as any other failure
        # SQLite lets one transaction write at a time; a long one (an import) makes the others
        # give up after the busy timeout. Nothing was written: the client may simply retry.
        log.warning("database busy on %s: %s", _asked(request), exc.orig)
        return await app_error(
            request,
            Busy(
                Sentence(
                    "the database is busy with another change, such as a large import; "
                    "nothing was saved: try again in a few seconds"
                )
            ),
        )

    @app.exception_handler(PoolTimeout)
    async def no_connection(request: Request, exc: PoolTimeout) -> Response:
        # Every pooled connection stayed busy for OPTOUT_DB_POOL_TIMEOUT_SECONDS: the server
        # is overloaded, not broken, and nothing of this request was written.
        log.warning("no free database connection for %s", _asked(request))
        return await app_error(
            request,
            Busy(
                Sentence(
                    "the server is busy: no database connection came free in time; "
                    "nothing was saved: try again in a few seconds"
                )
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [_field_error(e) for e in exc.errors()]
        fields = ", ".join(dict.fromkeys(e.field for e in errors))
        detail = Sentence("invalid input: {fields}", fields=fields)
        return respond(request, 422, detail, title="Invalid input", errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail: Message = str(exc.detail)
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's word for a body that is not UTF-8 JSON: as invalid as malformed JSON.
            body_error = FieldError("body", Sentence("could not be read as UTF-8 JSON"))
            return respond(
                request, 422, "invalid input: body", title="Invalid input", errors=[body_error]
            )
        if exc.status_code == 404 and detail == "Not Found":
            detail = Sentence("nothing at {path}", path=request.url.path)
        elif exc.status_code == 405:
            detail = Sentence(
                "{method} is not allowed on {path}", method=request.method, path=request.url.path
            )
        return respond(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        request_id = REQUEST_ID.get()
        log.exception("unhandled error on %s", _asked(request), exc_info=exc)
        return respond(
            request,
            500,
            Sentence(
                "the server failed to handle this request; it has been logged as request {id}",
                id=request_id,
            ),
            headers={"X-Request-ID": request_id},  # sent from outside the middleware that adds it
        )


def _asked(request: Request) -> str:
    """The request, as a log line names it: `GET /path (request <its id>)`."""
    return f"{request.method} {request.url.path} (request {REQUEST_ID.get()})"
