"""Brute-force protection for the owner portal's sign-in, kept in the cache.

Failed attempts are counted per account and per client IP in a fixed window;
reaching the limit locks that account (or IP) for a while, even against the
right password. The IP limit is higher because hotel staff share a connection.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

PREFIX = "portal-login"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_failures_per_account() -> int:
    return _setting("PORTAL_LOGIN_MAX_FAILURES", 5)


def max_failures_per_ip() -> int:
    return _setting("PORTAL_LOGIN_MAX_FAILURES_PER_IP", 20)


def lockout_seconds() -> int:
    return _setting("PORTAL_LOGIN_LOCKOUT_SECONDS", 15 * 60)


def _key(kind: str, what: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().casefold().encode()).hexdigest()[:32]
    return f"{PREFIX}:{kind}:{what}:{digest}"


def _subjects(username: str, ip: str) -> list[tuple[str, str, int]]:
    subjects = []
    if username:
        subjects.append(("user", username, max_failures_per_account()))
    if ip:
        subjects.append(("ip", ip, max_failures_per_ip()))
    return subjects


def is_locked(*, username: str, ip: str) -> bool:
    keys = [_key(kind, "locked", value) for kind, value, _ in _subjects(username, ip)]
    return any(cache.get_many(keys).values())


def record_failure(*, username: str, ip: str) -> bool:
    """Count a failed attempt; True if it locked the account or the IP."""
    locked = False
    window = lockout_seconds()
    for kind, value, limit in _subjects(username, ip):
        key = _key(kind, "failures", value)
        cache.add(key, 0, window)  # the window starts at the first failure
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)
            count = 1
        if count >= limit:
            cache.set(_key(kind, "locked", value), True, window)
            cache.delete(key)
            locked = True
    return locked


def record_success(*, username: str) -> None:
    cache.delete(_key("user", "failures", username))


def client_ip(request) -> str:
    # REMOTE_ADDR only: a forwarded header is the client's to forge unless a
    # trusted proxy sets it, and then the proxy config belongs in one place.
    return request.META.get("REMOTE_ADDR", "")
