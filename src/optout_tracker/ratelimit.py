"""A per-client budget of expensive operations (a token bucket per client address)."""

import math
import threading
import time

from .errors import TooManyRequests
from .i18n import Sentence


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
                refusal = Sentence(
                    "too many {what} from your address: try again in {seconds} seconds",
                    what=Sentence(self.what),  # a catalog message (N_), as the caller marks it
                    seconds=str(wait),
                )
                raise TooManyRequests(refusal, wait)
            self._buckets.pop(client, None)  # re-inserted last: the dict is oldest-first
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > self.MAX_CLIENTS:
                self._forget(now)

    def _forget(self, now: float) -> None:
        """Forget clients whose budget is full again: remembering them changes nothing. If none
        is, the one with the most left, so that memory stays bounded and a client that spent
        its budget is the last to get a fresh one."""
        left = {c: self._tokens(c, now) for c in self._buckets}
        full = [c for c, tokens in left.items() if tokens >= self.burst]
        for client in full or [max(left, key=left.__getitem__)]:
            del self._buckets[client]

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)
