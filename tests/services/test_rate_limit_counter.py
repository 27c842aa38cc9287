"""The rate limit's fixed-window counter (apps/partners/throttling.py) on the project's cache."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from apps.partners.throttling import _count

needs_redis = pytest.mark.skipif(
    not isinstance(caches["default"], RedisCache), reason="the one-round-trip path is Redis's"
)


@pytest.fixture
def key():
    cache.delete("test-window")
    yield "test-window"
    cache.delete("test-window")


def test_the_counter_counts_from_one(key):
    assert [_count(key, timeout=60)[0] for _ in range(3)] == [1, 2, 3]


def test_the_counter_continues_a_count_kept_through_the_cache_api(key):
    cache.set(key, 41, timeout=60)
    assert _count(key, timeout=60)[0] == 42


def test_the_counter_reads_another_count_kept_through_the_cache_api_in_the_same_call(key):
    cache.delete("test-other")
    cache.add("test-other", 0, timeout=60)
    cache.incr("test-other", 5)
    assert _count(key, timeout=60, also_read="test-other") == (1, 5)
    cache.delete("test-other")


def test_another_count_that_is_absent_reads_zero(key):
    cache.delete("test-other")
    assert _count(key, timeout=60, also_read="test-other") == (1, 0)


@needs_redis
def test_the_counter_expires_with_its_window(key):
    _count(key, timeout=60)
    backend = caches["default"]
    full_key = backend.make_and_validate_key(key)
    assert 0 < backend._cache.get_client(full_key).ttl(full_key) <= 60
