"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around
its connection pool for every cache operation. With redis-py 8 that object
costs more to build than the command it sends: a ``cache.get`` took 0.11 ms of
CPU, 0.04 ms with the client reused (bench/RESULTS.md, issue 14), and every API
request makes two or more cache calls (the refused-key limiter, the rate limit).

A ``redis.Redis`` client holds no connection of its own: it borrows one from
the pool for each command and gives it back, so one client per pool is safe to
share between threads (redis-py documents its clients as thread-safe). Only
the object is reused; connections, timeouts and failures behave as before.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both build one the first time: harmless, one is kept.
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with its clients reused."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
