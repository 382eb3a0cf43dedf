"""ASGI middleware: security headers on every response, and a cap on request bodies."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; "
    "img-src 'self' data:{images}; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors {ancestors}"
)
DOCS_ASSETS = "https://cdn.jsdelivr.net"  # where FastAPI's Swagger UI loads from
# The site uses none of these browser features: an injected script or frame gets none either.
PERMISSIONS_POLICY = (
    "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"  # a year, the usual minimum for preload lists
# Set in the request's state when the answer is made for a known caller (a key or a signed-in
# user): it may hold private fields, so no cache, shared or the browser's, may keep it.
FOR_A_KNOWN_CALLER = "for_a_known_caller"
PRIVATE_CACHE = (b"cache-control", b"private, no-store")


class SecurityHeaders:
    """CSP without inline script, nosniff, a strict referrer policy, no browser features;
    frames only for /embed/; HSTS when the site is served over https."""

    def __init__(
        self, app: ASGIApp, docs_script_hashes: tuple[str, ...] = (), https: bool = False
    ) -> None:
        self.app = app
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        ]
        if https:  # only then: over plain http the header is ignored, and a laptop uses http
            self.common.append((b"strict-transport-security", HSTS.encode()))
        # /docs may run exactly its own inline scripts (by hash) and Swagger UI's assets.
        hashes = "".join(f" 'sha256-{h}'" for h in docs_script_hashes)
        self.docs_policy = {
            "scripts": f" {DOCS_ASSETS}{hashes}",
            "styles": f" {DOCS_ASSETS}",
            "images": " https://fastapi.tiangolo.com",
        }
        self.site_policy = {"scripts": "", "styles": "", "images": ""}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        embeddable = path.startswith("/embed/") or path == "/embed"
        sources = self.docs_policy if path == "/docs" else self.site_policy
        policy = CSP.format(ancestors="*" if embeddable else "'none'", **sources)
        headers = [(b"content-security-policy", policy.encode()), *self.common]
        if not embeddable:
            headers.append((b"x-frame-options", b"DENY"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = headers
                if scope.get("state", {}).get(FOR_A_KNOWN_CALLER):
                    kept = [h for h in message.get("headers", []) if h[0] != b"cache-control"]
                    message["headers"], extra = kept, [*headers, PRIVATE_CACHE]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """413 for request bodies over the limit, whether or not they declare their length."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app, self.default_max = app, max_bytes
        self.larger = larger or {}  # path prefix -> limit, e.g. for CSV imports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = next((n for p, n in self.larger.items() if path.startswith(p)), self.default_max)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        # Read the body here, up to the limit, so that a streamed one without a length is
        # refused with 413 too, before the app starts parsing it.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "status": 413,
                "title": "Payload too large",
                "detail": f"the request body is over the limit of {limit} bytes",
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
