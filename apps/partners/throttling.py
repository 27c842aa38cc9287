"""Per-partner rate limit (settings: API_RATE_LIMIT, e.g. "60000/min").

A fixed-window counter: one atomic cache increment per request. DRF's
SimpleRateThrottle keeps every request time of the window in one cache value,
read and rewritten whole each time, which cost 4.5-8.8 ms a request at
30,000-60,000 requests a minute (bench/RESULTS.md, issue 3).
"""

import logging
import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)


class PartnerRateThrottle(BaseThrottle):
    """Fails open: with the cache unreachable, requests pass unthrottled (and
    are logged), so an outage of the cache never stops ingest."""

    scope = "partner"
    THROTTLE_RATES = SimpleRateThrottle.THROTTLE_RATES

    def __init__(self) -> None:
        self.num_requests, self.duration = SimpleRateThrottle.parse_rate(
            None, self.THROTTLE_RATES.get(self.scope)
        )

    def allow_request(self, request, view) -> bool:
        partner = getattr(request.user, "partner", None)
        if partner is None or self.num_requests is None:
            return True
        window = int(time.time() // self.duration)
        key = f"throttle:{self.scope}:{partner.pk}:{window}"
        self._window_end = (window + 1) * self.duration
        try:
            count = _count(key, timeout=self.duration + 1)
        except Exception as exc:  # any cache backend's connection error
            logger.warning("rate limit not enforced, cache unavailable: %s", type(exc).__name__)
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self._window_end - time.time())


def _count(key: str, *, timeout: int) -> int:
    """Increment a fixed-window counter and return its new value."""
    # add() is a no-op when the key exists; incr() is atomic on Redis.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1
