"""ASGI middleware: security headers on every response, a cap on request bodies, HEAD for
every GET, CORS for the API, and request ids."""

import json
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import i18n

CSP = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors {ancestors}{workers}"
)
# The site uses none of these browser features: an injected script or frame gets none either.
PERMISSIONS_POLICY = (
    "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"  # a year, the usual minimum for preload lists
# Set in the request's state by whatever asks who is calling: True for a known caller (a key
# or a signed-in user), whose answer may hold private fields, so that no cache, shared or the
# browser's, may keep it; False for an anonymous one. Either way the answer varies by caller.
KNOWN_CALLER = "known_caller"
PRIVATE_CACHE = (b"cache-control", b"private, no-store")
VARY_BY_CALLER = (b"vary", b"Authorization, X-API-Key, Cookie")


class SecurityHeaders:
    """CSP without inline script, nosniff, a strict referrer policy, no browser features;
    frames only for /embed/; HSTS when the site is served over https."""

    def __init__(
        self,
        app: ASGIApp,
        docs_paths: tuple[str, ...] = (),
        docs_script_hashes: tuple[str, ...] = (),
        https: bool = False,
    ) -> None:
        self.app = app
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        ]
        if https:  # only then: over plain http the header is ignored, and a laptop uses http
            self.common.append((b"strict-transport-security", HSTS.encode()))
        # The API docs may run exactly their own inline scripts (by hash); their assets are
        # the site's own. ReDoc and Swagger UI set styles from their scripts, and ReDoc
        # searches in a worker it makes from a blob.
        self.docs_paths = frozenset(docs_paths)
        hashes = "".join(f" 'sha256-{h}'" for h in docs_script_hashes)
        self.docs_policy = {
            "scripts": hashes,
            "styles": " 'unsafe-inline'",
            "workers": "; worker-src blob:",
        }
        self.site_policy = {"scripts": "", "styles": "", "workers": ""}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        embeddable = path.startswith("/embed/") or path == "/embed"
        sources = self.docs_policy if path in self.docs_paths else self.site_policy
        policy = CSP.format(ancestors="*" if embeddable else "'none'", **sources)
        headers = [(b"content-security-policy", policy.encode()), *self.common]
        if not embeddable:
            headers.append((b"x-frame-options", b"DENY"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent, extra = message.get("headers", []), headers
                known = scope.get("state", {}).get(KNOWN_CALLER)
                if known is not None:
                    extra = [*extra, VARY_BY_CALLER]
                if known:
                    sent = [h for h in sent if h[0] != b"cache-control"]
                    extra = [*extra, PRIVATE_CACHE]
                if any(name == b"content-security-policy" for name, _ in sent):
                    # The route's own policy instead of the site's: a document's sandbox.
                    extra = [h for h in extra if h[0] != b"content-security-policy"]
                message["headers"] = [*sent, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """413 for request bodies over the limit, counted as the app reads them: nothing is
    buffered here, and a body nobody reads (a request refused with 401) is never taken in.

    A declared Content-Length over the limit is refused before the app runs. Paths that a
    pattern of `larger` matches (from their start) may read up to its larger limit once their
    route has checked the caller and called `grant_larger_body`; until then the default
    applies to them too.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app, self.default_max = app, max_bytes
        # path pattern -> limit, e.g. for CSV imports and uploaded documents
        self.larger = [(re.compile(p), n) for p, n in (larger or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        most = next((n for p, n in self.larger if p.match(path)), self.default_max)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > most:
            await _refuse(send, most)
            return
        budget = scope[BUDGET] = _Budget(limit=self.default_max, most=most)

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                budget.received += len(message.get("body", b""))
                if budget.received > budget.limit:
                    # Raised into whatever reads the body; the app answers it as a problem.
                    raise HTTPException(413, _over(budget.limit))
            return message

        await self.app(scope, counted, send)


BUDGET = "optout.body_budget"  # scope key


@dataclass
class _Budget:
    limit: int  # in force now
    most: int  # what grant_larger_body raises it to
    received: int = 0


def grant_larger_body(scope: Scope) -> None:
    """Let this request's body grow to its path's larger limit: call it only after the
    caller's credential has been checked, before reading the body."""
    budget: _Budget = scope[BUDGET]
    budget.limit = budget.most


def _over(limit: int) -> str:
    return f"the request body is over the limit of {limit} bytes"


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "status": 413,
            "title": HTTPStatus(413).phrase,
            "detail": _over(limit),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeadAsGet:
    """HEAD answered wherever GET is (RFC 9110): the app is asked for the GET, and its answer
    goes out without the body, with the GET's status and headers (Content-Length, ETag)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class ApiCors:
    """CORS on the paths starting with one of `prefixes` (the API and its OpenAPI
    document), for the `origins` allowed: a coalition's own page may read the status by FIPS
    code from the browser, with a key or without. No cookies cross: the site's pages and
    forms stay same-origin."""

    # Headers a partner's page may send, and read back from the answer.
    ASKED = ("Authorization", "X-API-Key", "Content-Type", "If-Match", "If-None-Match",
             "Idempotency-Key")  # fmt: skip
    SHOWN = ("Link", "ETag", "Location")

    def __init__(self, app: ASGIApp, origins: tuple[str, ...], prefixes: tuple[str, ...]) -> None:
        self.app, self.prefixes = app, prefixes
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=("GET", "HEAD", "POST", "PATCH", "DELETE"),
            allow_headers=self.ASKED,
            expose_headers=self.SHOWN,
            max_age=3600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# The id of the request being answered, for the log lines it causes ("-" outside one).
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
REQUEST_ID_HEADER = b"x-request-id"
# An id a caller or proxy may choose: what tracers send (UUIDs, W3C trace ids), and nothing
# that could forge or break a log line.
ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")


class RequestIds:
    """Each request's id: the caller's `X-Request-ID` (a proxy's, say) when it is a
    plausible one, else a new one; sent back on the answer, and in REQUEST_ID meanwhile."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != REQUEST_ID_HEADER]
                message["headers"] = [*headers, (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        # Not reset afterwards: the server runs each request in a task of its own, whose
        # context this is, and the handler of a crash answers outside this middleware
        # (Starlette's ServerErrorMiddleware is outermost), where it must still read it.
        REQUEST_ID.set(request_id)
        await self.app(scope, receive, send_with_id)


LANGUAGE_COOKIE = "lang"
# In the request's state: the language `?lang=` asked for, if any (whoever knows the caller
# keeps it on a signed-in user's account: http/auth.py).
LANGUAGE_ASKED = "language_asked"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def language_asked(scope: Scope) -> str | None:
    """The language this request's `?lang=` asked for, if it asked for one the site speaks."""
    asked: str | None = scope.get("state", {}).get(LANGUAGE_ASKED)
    return asked


def language_cookie(locale: str) -> str:
    """The Set-Cookie value that keeps `locale` as the browser's choice for a year."""
    return f"{LANGUAGE_COOKIE}={locale}; Path=/; Max-Age={LANGUAGE_COOKIE_SECONDS}; SameSite=Lax"


class Languages:
    """The language of each answer (i18n.negotiate): `?lang=` (kept then in a cookie for a
    year), else that cookie, else Accept-Language, else the site's default. Set for the
    request (i18n.LOCALE), said in Content-Language, and the answer varies by both headers
    that choose it. A signed-in user's own language reaches the cookie when they sign in;
    their `?lang=` reaches their account (LANGUAGE_ASKED)."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app, self.default = app, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        asked = i18n.known(next((v for k, v in reversed(query) if k == "lang"), None))
        # Taken off the query here: every page and list refuses parameters it does not know.
        rest = urlencode([(k, v) for k, v in query if k != "lang"]).encode("latin-1")
        scope = {**scope, "query_string": rest}
        # In place: the state is the one every middleware and the route share.
        scope.setdefault("state", {})[LANGUAGE_ASKED] = asked
        kept = _cookie(headers.get("cookie", ""), LANGUAGE_COOKIE)
        locale = i18n.negotiate(asked, kept, None, headers.get("accept-language"), self.default)
        extra = [(b"content-language", locale.encode())]
        if asked is not None and asked != kept:
            extra.append((b"set-cookie", language_cookie(asked).encode()))

        async def send_in_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = [h for h in message.get("headers", []) if h[0] != b"content-language"]
                message["headers"] = _vary(sent, b"Accept-Language, Cookie") + extra
            await send(message)

        token = i18n.LOCALE.set(locale)
        try:
            await self.app(scope, receive, send_in_language)
        finally:
            i18n.LOCALE.reset(token)


def _cookie(header: str, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def _vary(headers: list[tuple[bytes, bytes]], more: bytes) -> list[tuple[bytes, bytes]]:
    """`headers` with `more` added to their Vary, in one header, each name once."""
    names: dict[str, None] = {}
    for value in [v for k, v in headers if k == b"vary"] + [more]:
        names |= dict.fromkeys(n.strip() for n in value.decode("latin-1").split(",") if n.strip())
    rest = [(k, v) for k, v in headers if k != b"vary"]
    return [*rest, (b"vary", ", ".join(names).encode("latin-1"))]
