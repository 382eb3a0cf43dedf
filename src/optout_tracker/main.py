"""The application factory."""

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from .api import (
    agencies,
    api_keys,
    audit,
    jurisdictions,
    letters,
    problems,
    responses,
    status,
    votes,
)
from .config import Settings, get_settings
from .db import create_db_engine
from .middleware import BodyLimit, SecurityHeaders
from .paths import PACKAGE_DIR
from .schemas import Problem
from .web import pages

API_PREFIX = "/api/v1"
SESSION_COOKIE = "optout_session"
SESSION_IDLE_SECONDS = 12 * 3600


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="optout-tracker",
        summary="Campaigns by US jurisdictions to opt out of Secure Communities, and the answers.",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # Operation ids are the route functions' names: list_votes, get_jurisdiction, ...
        generate_unique_id_function=lambda route: route.name,
        # Document responses by their fields: the serializer that leaves out private notes
        # for anonymous callers would otherwise hide the schema.
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.engine = create_db_engine(settings)

    api = APIRouter(prefix=API_PREFIX, responses=problems.documented(400, 401, 403, 404, 422))
    for module in (jurisdictions, agencies, votes, letters, responses, status, audit, api_keys):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    problems.install(app)
    _document_problem_schema(app)

    # Outermost last: headers go on every answer, the limit applies before anything reads.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_IDLE_SECONDS,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def _document_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema into the OpenAPI document and say 422 answers problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schema["components"]["schemas"]["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for defs in schema["components"]["schemas"]["Problem"].pop("$defs", {}).items():
            schema["components"]["schemas"].setdefault(*defs)
        for path in schema["paths"].values():
            for operation in path.values():
                if "422" in operation.get("responses", {}):
                    operation["responses"]["422"] = problems.documented(422)[422]
        schema["components"]["schemas"].pop("HTTPValidationError", None)
        schema["components"]["schemas"].pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
