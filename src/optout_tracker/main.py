"""The application factory."""

import logging
import re
import threading
from functools import partial

from fastapi import APIRouter, Depends, FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from .api import (
    agencies,
    announcements,
    api_keys,
    audit,
    changes,
    documents,
    export,
    follow_up,
    follows,
    imports,
    jurisdictions,
    letters,
    notices,
    openapi,
    responses,
    status,
    votes,
    webhooks,
)
from .config import Settings, get_settings
from .db import create_db_engine, unit_of_work
from .http import problems, uploads
from .http.auth import get_principal
from .http.metrics import Metrics
from .http.observe import Observe
from .http.public_cache import PublicCache, Store
from .i18n import N_
from .middleware import ApiCors, BodyLimit, HeadAsGet, Languages, RequestIds, SecurityHeaders
from .paths import PACKAGE_DIR
from .ratelimit import ClientBudget
from .session_secret import session_secret
from .web import (
    account,
    admin,
    admin_webhooks,
    api_docs,
    cities,
    feeds,
    health,
    maps,
    metrics,
    pages,
    templating,
    timeline,
    unsubscribe,
)
from .web import agencies as web_agencies
from .web import announcements as web_announcements
from .web import documents as web_documents
from .web import follow_up as web_follow_up
from .web import jurisdictions as web_jurisdictions
from .web import letters as web_letters
from .web.access import SignInFirst, sign_in_first
from .web.forms import AlreadySaved, already_saved
from .web.static import CachedStatic

logger = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
SESSION_COOKIE = "optout_session"
SESSION_IDLE_SECONDS = 12 * 3600
# The public cache's bound: the map page with both encodings is about 1.1 MB, the rest less;
# room for every map a crowd opens, well inside the server's 150 MB.
PUBLIC_CACHE_BYTES = 32 * 2**20


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="optout-tracker",
        summary="Campaigns by US jurisdictions to opt out of Secure Communities, and the answers.",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,  # served below, so that its CSP can allow exactly its inline script
        redoc_url=None,
        # Operation ids are the route functions' names: list_votes, get_jurisdiction, ...
        generate_unique_id_function=lambda route: route.name,
        # Document responses by their fields: the serializer that leaves out private notes
        # for anonymous callers would otherwise hide the schema.
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    secret = session_secret(settings)  # before anything else: no app without one
    logger.info("session cookies are signed with the secret from %s", secret.source)
    app.state.engine = create_db_engine(settings)
    app.state.units = partial(unit_of_work, app.state.engine)
    # Password checks one client address may ask of this process: 30 at once, then one every
    # 2 s; argon2 costs ~100 ms of CPU each, so no one client can keep the CPUs busy.
    app.state.sign_in_budget = ClientBudget(N_("sign-in attempts"), burst=30, per_minute=30)
    app.state.export_slots = threading.BoundedSemaphore(settings.export_concurrency)
    app.state.metrics = Metrics()  # this process's, shown at /metrics

    # Every API route checks a presented key, even where anyone may read: a wrong key is a 401.
    api = APIRouter(
        prefix=API_PREFIX,
        responses=problems.documented(400, 401, 403, 404, 422, 503),
        dependencies=[Depends(get_principal)],
    )
    records = (jurisdictions, agencies, votes, letters, responses, announcements)
    others = (notices, documents, follow_up, follows, status, changes, export, imports, audit)
    routers = [m.router for m in (*records, *others, api_keys, webhooks)]
    for router in routers:
        api.include_router(router)
    app.include_router(api)
    for router in (
        health.router,
        metrics.router,
        pages.router,
        maps.router,
        cities.router,  # before /jurisdictions/{slug}, which would take "new" for a slug
        timeline.router,
        web_jurisdictions.router,
        web_letters.router,
        web_announcements.router,
        web_documents.router,
        web_agencies.router,
        admin.router,
        admin_webhooks.router,
        feeds.router,
        web_follow_up.router,
        account.router,
        unsubscribe.router,  # no CSRF token: its signed link is the proof
    ):
        app.include_router(router)  # each checks the CSRF token of every form it receives
    app.mount("/static", CachedStatic(directory=PACKAGE_DIR / "static"), name="static")
    problems.install(app, html_error=templating.error_page)
    app.add_exception_handler(SignInFirst, sign_in_first)  # pages send visitors to /login
    app.add_exception_handler(AlreadySaved, already_saved)  # a form's second tap
    openapi.install(app, API_PREFIX, routers)

    # Outermost last: headers go on every answer, the limit applies before anything reads.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.value,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_IDLE_SECONDS,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger={
            re.escape(f"{API_PREFIX}/import/"): settings.import_max_bytes,
            uploads.UPLOAD_PATHS: uploads.upload_limit(settings.max_upload_bytes),
        },
    )
    docs_script_hashes = api_docs.install(app)

    # Level 6: the map page gzips to 189 KB in 40 ms; level 9 saves 3 KB for 30 ms more.
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    # Outside gzip: the public answers it keeps it has compressed itself, once.
    app.state.public_cache = Store(PUBLIC_CACHE_BYTES)
    app.add_middleware(PublicCache, store=app.state.public_cache, session_cookie=SESSION_COOKIE)
    # Outside the cache: its key and Vary take the language chosen here.
    app.add_middleware(Languages, default=settings.default_locale)
    app.add_middleware(
        SecurityHeaders,
        docs_paths=api_docs.PAGES,
        docs_script_hashes=docs_script_hashes,
        https=settings.base_url.startswith("https://"),
    )
    app.add_middleware(HeadAsGet)
    if origins := settings.cors_origin_list:
        app.add_middleware(ApiCors, origins=origins, prefixes=(f"{API_PREFIX}/", "/openapi.json"))
    # Outside whatever may answer (the public cache, CORS, HEAD), inside the request's id:
    # every request is counted and logged once, with its id.
    app.add_middleware(Observe, metrics=app.state.metrics)
    app.add_middleware(RequestIds)  # outermost: every answer has one, a cached one too
    return app
