"""The one place errors become responses: problem+json (RFC 9457)."""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import AppError, FieldError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": status,
        "title": title or HTTPStatus(status).phrase,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_name(loc: Sequence[int | str]) -> str:
    """('query', 'limit') -> 'limit'; ('body', 'votes', 0, 'yes') -> 'votes[0].yes'."""
    parts = list(loc[1:] if loc and loc[0] in {"query", "body", "path", "header"} else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or (str(loc[0]) if loc else "request")


def _validation_message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown parameter"
    return str(error["msg"])


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return problem(exc.status, exc.detail, title=exc.title, errors=exc.errors)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(field_name(e["loc"]), _validation_message(e)) for e in exc.errors()]
        fields = ", ".join(dict.fromkeys(e.field for e in errors))
        return problem(422, f"invalid input: {fields}", title="Invalid input", errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem(exc.status_code, str(detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, "the server failed to handle this request; it has been logged")
