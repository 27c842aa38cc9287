"""The webhook transport: which URLs may be called, and one POST under a total deadline.

Two guarantees the rest of the partners app relies on:

- An attempt never lasts longer than its deadline, whatever the receiver does.
  ``requests`` timeouts bound each socket read, so a receiver dripping one
  byte every few seconds could hold a worker until Celery's time limit. Here a
  watchdog shuts the socket down at the deadline, which ends any blocking
  connect, TLS handshake, send or read at once.
- Only public HTTPS endpoints are called (unless ``WEBHOOK_ALLOW_PRIVATE_URLS``
  is on, for local development). The host is resolved once, every address is
  checked, and the connection goes to a checked address, so a DNS answer that
  changes between the check and the call cannot point us at the inside.
  Redirects are never followed: ``http.client`` does not follow them.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


class UrlRefused(ValueError):
    """A webhook URL that must not be called; the message says why."""


def _allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_webhook_url(url: str) -> tuple[str, int, list[str]]:
    """Check ``url`` and resolve its host: ``(host, port, addresses)``.

    Raises ``UrlRefused`` for anything but https (http too with private URLs
    allowed), credentials in the URL, an unresolvable host, or any address that
    is not public (loopback, private, link-local, shared, reserved, multicast).
    """
    parts = urlsplit(url)
    allowed_schemes = {"https", "http"} if _allow_private() else {"https"}
    if parts.scheme not in allowed_schemes:
        raise UrlRefused("Webhook URLs must use https.")
    if parts.username or parts.password:
        raise UrlRefused("Webhook URLs must not carry credentials.")
    host = parts.hostname
    if not host:
        raise UrlRefused("The webhook URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UrlRefused("The webhook URL has an invalid port.") from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlRefused(f"The webhook host {host!r} does not resolve.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not _allow_private():
        private = [a for a in addresses if not _is_public(a)]
        if private:
            raise UrlRefused(
                f"The webhook host {host!r} resolves to a non-public address ({private[0]})."
            )
    return host, port, addresses


def validate_webhook_url(value: str) -> None:
    """Model and form validator: the URL must be one ``post_with_deadline`` will call."""
    if not value:
        return
    try:
        resolve_webhook_url(value)
    except UrlRefused as exc:
        raise ValidationError(str(exc), code="invalid_webhook_url") from None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str  # empty on a 2xx answer


def post_with_deadline(
    url: str, *, body: bytes, headers: dict[str, str], deadline: float
) -> Outcome:
    """POST ``body`` to ``url`` and return within ``deadline`` seconds, whatever happens."""
    started = time.monotonic()
    try:
        host, port, addresses = resolve_webhook_url(url)
    except UrlRefused as exc:
        return Outcome(None, f"refused: {exc}")
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    remaining = max(0.1, deadline - (time.monotonic() - started))
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=remaining, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=remaining)

    def connect_to_checked_address(address, timeout, source_address=None):
        return socket.create_connection((addresses[0], address[1]), timeout, source_address)

    conn._create_connection = connect_to_checked_address  # Host and SNI stay the name
    timed_out = threading.Event()

    def abort() -> None:
        timed_out.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(remaining, abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        status = response.status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if timed_out.is_set() or time.monotonic() - started >= deadline:
            return Outcome(None, f"deadline exceeded: no answer within {deadline:g} s")
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        watchdog.cancel()
        conn.close()
    if 300 <= status < 400:
        return Outcome(status, f"HTTP {status} (redirects are not followed)")
    if not 200 <= status < 300:
        return Outcome(status, f"HTTP {status}")
    return Outcome(status, "")
