"""A per-client budget of expensive operations (a token bucket per client address)."""

import math
import threading
import time

from .errors import TooManyRequests


class ClientBudget:
    """`burst` operations at once per client, refilled at `per_minute`; in this process only.

    In memory on purpose: it guards this process's CPU, and refusing costs no database work.
    Each app process keeps its own, so N processes allow N times the rate.
    """

    MAX_CLIENTS = 10_000  # then the longest idle are forgotten, so memory stays bounded

    def __init__(self, what: str, burst: int, per_minute: float) -> None:
        self.what, self.burst, self.rate = what, burst, per_minute / 60
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._lock = threading.Lock()

    def spend(self, client: str) -> None:
        """Take one operation from `client`'s budget, or raise TooManyRequests."""
        now = time.monotonic()
        with self._lock:
            tokens = self._tokens(client, now)
            if tokens < 1:
                wait = math.ceil((1 - tokens) / self.rate)
                raise TooManyRequests(
                    f"too many {self.what} from your address: try again in {wait} seconds", wait
                )
            self._buckets.pop(client, None)  # re-inserted last: the dict is oldest-first
            self._buckets[client] = (tokens - 1, now)
            while len(self._buckets) > self.MAX_CLIENTS:
                del self._buckets[next(iter(self._buckets))]

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)
