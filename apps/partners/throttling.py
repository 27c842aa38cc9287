"""Per-partner rate limit (settings: API_RATE_LIMIT, e.g. "60000/min").

A fixed-window counter: one atomic cache increment per request. DRF's
SimpleRateThrottle keeps every request time of the window in one cache value,
read and rewritten whole each time, which cost 4.5-8.8 ms a request at
30,000-60,000 requests a minute (bench/RESULTS.md, issue 3).
"""

import logging
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
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
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _count_on_redis(backend, key, timeout=timeout)
    # add() is a no-op when the key exists; incr() is atomic on Redis.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def _count_on_redis(backend: RedisCache, key: str, *, timeout: int) -> int:
    """The same counter on Redis in one round trip instead of three.

    ``cache.add`` then ``cache.incr`` is SET NX, EXISTS and INCR, each waiting
    for its answer; sent together in one pipeline (not a transaction: INCR is
    atomic by itself, and SET NX only ever creates the key with its expiry)
    they cost a third. The key and its value are those of the cache API (an
    integer is stored as plain digits), so either way reads the other's count.
    """
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    pipe = client.pipeline(transaction=False)
    pipe.set(full_key, 0, ex=timeout, nx=True)
    pipe.incr(full_key)
    _, count = pipe.execute()
    return int(count)
