"""Each request measured once, from outside everything that may answer it (the public
cache, CORS, HEAD): counted and timed for `/metrics`, and logged in one access line."""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..middleware import REQUEST_ID
from ..security import ANONYMOUS, Principal
from .auth import PRINCIPAL
from .metrics import Metrics, RouteTemplates

ACCESS = logging.getLogger("optout_tracker.access")


class Observe:
    """Counts, times and logs every request: method, path, route template, status, latency,
    request id, who asked (whom the route identified: a user or a key by kind and id, never
    by e-mail address or key name, which are personal or private; else anonymous) and the
    client's address (the proxy's forwarded one when uvicorn trusts it: FORWARDED_ALLOW_IPS)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics
        self.templates: RouteTemplates | None = None  # from the app's routes, at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        # Made here so that the copies of the scope that inner middleware make share it: the
        # route's principal, set in its request.state, is read below.
        state = scope.setdefault("state", {})
        status = 500  # what the client gets if the app fails before it answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - start
            if self.templates is None:
                self.templates = RouteTemplates(scope["app"].routes)
            method, path = scope["method"], scope["path"]
            route = self.templates.of(method, path)
            self.metrics.observe(route, method, status, seconds)
            if ACCESS.isEnabledFor(logging.INFO):
                principal: Principal = state.get(PRINCIPAL) or ANONYMOUS
                _log(scope, route, status, seconds, principal)


def _log(scope: Scope, route: str, status: int, seconds: float, principal: Principal) -> None:
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope["path"] + (f"?{query}" if query else "")
    client = scope.get("client")
    address = client[0] if client else "-"
    milliseconds = round(seconds * 1000, 1)
    ACCESS.info(
        "%s %s %s %.1f ms %s %s",
        scope["method"],
        path,
        status,
        milliseconds,
        principal.key,
        address,
        extra={
            "method": scope["method"],
            "path": path,
            "route": route,
            "status": status,
            "latency_ms": milliseconds,
            "request_id": REQUEST_ID.get(),
            "actor": principal.key,
            "client": address,
        },
    )
