"""Brute-force protection for the owner portal's sign-in: ``apps.core.lockout``'s
portal policy (settings ``PORTAL_LOGIN_*``)."""

from __future__ import annotations

from apps.core.clientip import client_ip
from apps.core.lockout import PORTAL


def lockout_seconds() -> int:
    return PORTAL.lockout_seconds()


def is_locked(*, username: str, ip: str) -> bool:
    return PORTAL.is_locked(username=username, ip=ip)


def record_failure(*, username: str, ip: str) -> bool:
    """Count a failed attempt; True if it locked the account, the IP or the pair."""
    return PORTAL.record_failure(username=username, ip=ip)


def record_success(*, username: str, ip: str = "") -> None:
    PORTAL.record_success(username=username, ip=ip)


__all__ = ["client_ip", "is_locked", "lockout_seconds", "record_failure", "record_success"]
