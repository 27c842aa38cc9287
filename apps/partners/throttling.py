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

from .authentication import bad_keys, raise_too_many_bad_keys

logger = logging.getLogger(__name__)


class PartnerRateThrottle(BaseThrottle):
    """Fails open: with the cache unreachable, requests pass unthrottled (and
    are logged), so an outage of the cache never stops ingest.

    For a key the authentication found in its memory, this also reads whether the
    client is blocked for guessing keys (``request.bad_keys_client``), in the same
    round trip as the count: a single review POST makes one cache round trip, not
    two (bench/RESULTS.md, issue 14).
    """

    scope = "partner"
    THROTTLE_RATES = SimpleRateThrottle.THROTTLE_RATES

    def __init__(self) -> None:
        self.num_requests, self.duration = SimpleRateThrottle.parse_rate(
            None, self.THROTTLE_RATES.get(self.scope)
        )

    def allow_request(self, request, view) -> bool:
        partner = getattr(request.user, "partner", None)
        client = getattr(request, "bad_keys_client", None)
        if partner is None or self.num_requests is None:
            if client is not None:
                wait = bad_keys.blocked_for(client)
                if wait is not None:
                    raise_too_many_bad_keys(wait)
            return True
        window = int(time.time() // self.duration)
        key = f"throttle:{self.scope}:{partner.pk}:{window}"
        self._window_end = (window + 1) * self.duration
        try:
            count, refused = _count(key, timeout=self.duration + 1,
                                    also_read=bad_keys.counter_key(client) if client else None)
        except Exception as exc:  # any cache backend's connection error
            logger.warning("rate limit not enforced, cache unavailable: %s", type(exc).__name__)
            return True
        wait = bad_keys.wait_if_blocked(refused) if client else None
        if wait is not None:
            raise_too_many_bad_keys(wait)
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self._window_end - time.time())


def _count(key: str, *, timeout: int, also_read: str | None = None) -> tuple[int, int]:
    """Increment a fixed-window counter and return its new value, with the integer
    stored under ``also_read`` (0 when absent or not asked for)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _count_on_redis(backend, key, timeout=timeout, also_read=also_read)
    other = int(cache.get(also_read, 0)) if also_read else 0
    # add() is a no-op when the key exists; incr() is atomic on Redis.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key), other
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1, other


def _count_on_redis(backend: RedisCache, key: str, *, timeout: int,
                    also_read: str | None) -> tuple[int, int]:
    """The same counter on Redis in one round trip instead of three.

    ``cache.add`` then ``cache.incr`` is SET NX, EXISTS and INCR, each waiting
    for its answer; sent together in one pipeline (not a transaction: INCR is
    atomic by itself, and SET NX only ever creates the key with its expiry)
    they cost a third. The key and its value are those of the cache API (an
    integer is stored as plain digits), so either way reads the other's count;
    ``also_read`` is a GET in the same pipeline.
    """
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    pipe = client.pipeline(transaction=False)
    pipe.set(full_key, 0, ex=timeout, nx=True)
    pipe.incr(full_key)
    if also_read:
        pipe.get(backend.make_and_validate_key(also_read))
    answers = pipe.execute()
    other = answers[2] if also_read else None
    return int(answers[1]), int(other) if other is not None else 0
