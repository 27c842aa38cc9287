"""Brute-force protection for sign-in forms (owner portal, admin), kept in the cache.

Failed attempts are counted in fixed windows for three subjects, each with its
own limit, and reaching a limit locks that subject, even against the right
password:

- the (account, client IP) pair: a few failures lock this pair only, so an
  attacker guessing an owner's password from one place cannot lock the owner
  out from anywhere else;
- the client IP, across accounts: a higher limit (hotel staff share a
  connection), for one machine trying many accounts;
- the account, across IPs: a much higher limit and a short lock, for a guess
  spread over many addresses. It decays on its own within minutes, so nobody
  can keep an owner locked out for long.

The client IP comes from ``apps.core.clientip`` (``TRUSTED_PROXIES``). Limits
are settings named ``<SCOPE>_LOGIN_<NAME>`` (``PORTAL_LOGIN_MAX_FAILURES``,
``ADMIN_LOGIN_LOCKOUT_SECONDS`` …).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

DEFAULTS = {
    "MAX_FAILURES": 5,  # per (account, IP)
    "MAX_FAILURES_PER_IP": 20,
    "MAX_FAILURES_PER_ACCOUNT": 50,
    "LOCKOUT_SECONDS": 15 * 60,  # pair and IP
    "ACCOUNT_LOCKOUT_SECONDS": 5 * 60,
}


@dataclass(frozen=True)
class LoginPolicy:
    scope: str  # "portal", "admin"

    def setting(self, name: str) -> int:
        return int(getattr(settings, f"{self.scope.upper()}_LOGIN_{name}", DEFAULTS[name]))

    def lockout_seconds(self) -> int:
        return self.setting("LOCKOUT_SECONDS")

    def _key(self, kind: str, what: str, value: str) -> str:
        digest = hashlib.sha256(value.strip().casefold().encode()).hexdigest()[:32]
        return f"login-lock:{self.scope}:{kind}:{what}:{digest}"

    def _subjects(self, username: str, ip: str) -> list[tuple[str, str, int, int]]:
        """(kind, value, limit, seconds) for each subject this attempt counts against."""
        long_lock, short_lock = self.lockout_seconds(), self.setting("ACCOUNT_LOCKOUT_SECONDS")
        subjects = []
        if username:
            subjects.append(("pair", f"{username}\x00{ip}", self.setting("MAX_FAILURES"), long_lock))
            subjects.append(
                ("user", username, self.setting("MAX_FAILURES_PER_ACCOUNT"), short_lock)
            )
        if ip:
            subjects.append(("ip", ip, self.setting("MAX_FAILURES_PER_IP"), long_lock))
        return subjects

    def is_locked(self, *, username: str, ip: str) -> bool:
        keys = [self._key(kind, "locked", value) for kind, value, _, _ in self._subjects(username, ip)]
        return any(cache.get_many(keys).values())

    def record_failure(self, *, username: str, ip: str) -> bool:
        """Count a failed attempt; True if it locked a subject."""
        locked = False
        for kind, value, limit, seconds in self._subjects(username, ip):
            key = self._key(kind, "failures", value)
            cache.add(key, 0, seconds)  # the window starts at the first failure
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, seconds)
                count = 1
            if count >= limit:
                cache.set(self._key(kind, "locked", value), True, seconds)
                cache.delete(key)
                locked = True
        return locked

    def record_success(self, *, username: str, ip: str) -> None:
        cache.delete(self._key("pair", "failures", f"{username}\x00{ip}"))


PORTAL = LoginPolicy("portal")
ADMIN = LoginPolicy("admin")
