"""The application factory."""

from fastapi import APIRouter, FastAPI

from .api import jurisdictions, problems, records, status
from .config import Settings, get_settings
from .db import create_db_engine

API_PREFIX = "/api/v1"


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
    )
    app.state.settings = settings
    app.state.engine = create_db_engine(settings)

    api = APIRouter(prefix=API_PREFIX)
    for module in (jurisdictions, records, status):
        api.include_router(module.router)
    app.include_router(api)
    problems.install(app)
    return app
