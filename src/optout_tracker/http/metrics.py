"""What `/metrics` shows (Prometheus): each app process's requests by route template, method
and status, their latency, the outboxes' depths, and the process's own figures.

Per process: each app process (each `serve`, each of its `--workers`) counts its own
requests, in a registry of its own (prometheus-client's multiprocess mode would add them
up across one host's workers, but not across hosts, and loses the process figures). The
outboxes' depths are the database's, read at each scrape: every process shows the same.
"""

from collections.abc import Sequence
from functools import lru_cache
from re import Pattern

from fastapi.routing import iter_route_contexts
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from starlette.routing import BaseRoute

from ..services.backlog import Depth

# No `_created` series beside each counter and histogram: they would double the series, and
# Prometheus reads a counter's resets without them.
disable_created_metrics()
UNMATCHED = "unmatched"  # the route label of a path no route takes (404s, mostly)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"  # any other method a client makes up: label values stay bounded
# Seconds: a cached page answers in a millisecond or two, a map render in a fifth of a second,
# an import of 100,000 rows in tens of seconds.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
CACHED_PATH_LENGTH = 256  # longer paths are matched each time: no client grows the cache


class Metrics:
    """One app's registry, and the metrics its requests and scrapes fill in."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)  # memory, CPU, open files; Python; the GC
        self.requests = Counter(
            "optout_http_requests",
            "Requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "optout_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "optout_outbox_pending",
            "Messages not sent yet nor given up on (webhook deliveries; mail), read from the "
            "database at the scrape: the same in every process.",
            ["outbox"],
            registry=self.registry,
        )
        self.outbox_oldest_due = Gauge(
            "optout_outbox_oldest_due_seconds",
            "How long the pending message due longest ago has been due (0: none is due); "
            "growing means no worker is sending.",
            ["outbox"],
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else OTHER_METHOD
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def exposition(self, accept: str, depths: dict[str, Depth]) -> tuple[bytes, str]:
        """The metrics in the format the scraper asks for (OpenMetrics or Prometheus text),
        with the outboxes' depths just read, and that format's content type."""
        for outbox, depth in depths.items():
            self.outbox_pending.labels(outbox).set(depth.pending)
            self.outbox_oldest_due.labels(outbox).set(depth.oldest_due_seconds)
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


class RouteTemplates:
    """The template of the route a request selects (`/api/v1/votes/{vote_id}`), found as the
    router finds it: the first route whose path and method match, else the first whose path
    matches (a 405). A label value per route, never per URL."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes: list[tuple[Pattern[str], frozenset[str] | None, str]] = [
            (c.path_regex, frozenset(c.methods) if c.methods else None, c.path_format)
            for c in iter_route_contexts(routes)
            if c.path_format is not None
        ]
        self._cached = lru_cache(maxsize=4096)(self._find)

    def of(self, method: str, path: str) -> str:
        # HEAD is answered by the GET route (middleware.HeadAsGet).
        method = "GET" if method == "HEAD" else method
        if len(path) > CACHED_PATH_LENGTH:
            return self._find(method, path)
        return self._cached(method, path)

    def _find(self, method: str, path: str) -> str:
        path_only = None
        for pattern, methods, template in self.routes:
            if pattern.match(path):
                if methods is None or method in methods:
                    return template
                path_only = path_only or template
        return path_only or UNMATCHED
