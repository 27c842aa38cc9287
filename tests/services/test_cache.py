"""The project's Redis cache backend (apps/core/cache.py)."""

from apps.core.cache import RedisCache


def _cache() -> RedisCache:
    return RedisCache("redis://127.0.0.1:6379/0", {})


def test_the_redis_client_is_built_once_per_connection_pool():
    client = _cache()._cache
    assert client.get_client("a", write=True) is client.get_client("b", write=True)


def test_the_reused_client_borrows_connections_from_the_cache_pool():
    client = _cache()._cache
    assert client.get_client().connection_pool is client._get_connection_pool(write=False)
