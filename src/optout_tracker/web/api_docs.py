"""`/docs` (Swagger UI) and `/redoc` (ReDoc) for the API, with their scripts and styles
served from the installed package (openapi-ui-bundles): the pages work on a host without
internet, and their CSP names no outside origin."""

import base64
import hashlib
import re

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from openapi_ui_bundles import redoc, swagger_ui

from .static import CachedStatic

SWAGGER_ASSETS = "/docs/assets/swagger-ui"
REDOC_ASSETS = "/docs/assets/redoc"
PAGES = ("/docs", "/redoc")


def install(app: FastAPI) -> tuple[str, ...]:
    """Serve both pages and their assets; return the CSP hashes of the pages' inline
    scripts (the only inline scripts the site allows, on these pages only)."""
    title = f"{app.title} API"
    spec = app.openapi_url or "/openapi.json"
    swagger = get_swagger_ui_html(
        openapi_url=spec,
        title=title,
        swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
        # Authorize once and keep the key while the page is open: every try-out sends it.
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )
    redoc_page = get_redoc_html(
        openapi_url=spec,
        title=title,
        redoc_js_url=f"{REDOC_ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
        with_google_fonts=False,
    )
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def swagger_ui_page() -> HTMLResponse:
        return swagger

    @router.get("/redoc")
    def redoc_page_() -> HTMLResponse:
        return redoc_page

    app.include_router(router)
    app.mount(SWAGGER_ASSETS, CachedStatic(directory=swagger_ui.static_path), name="swagger-ui")
    app.mount(REDOC_ASSETS, CachedStatic(directory=redoc.static_path), name="redoc")
    return inline_script_hashes(swagger.body) + inline_script_hashes(redoc_page.body)


def inline_script_hashes(html: bytes | memoryview) -> tuple[str, ...]:
    """CSP sha256 sources for the inline <script> blocks of a page."""
    scripts = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", bytes(html), re.S)
    return tuple(base64.b64encode(hashlib.sha256(s).digest()).decode() for s in scripts)
