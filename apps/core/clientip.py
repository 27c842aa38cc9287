"""The client's IP address, read from a forwarding header only behind a trusted proxy.

``REMOTE_ADDR`` is the peer that opened the connection. Behind a reverse proxy
that is the proxy, and every client would share one address (one attacker
would lock everyone out). ``X-Forwarded-For`` is what the client says unless a
proxy we trust wrote it. So: when the peer is one of ``TRUSTED_PROXIES``
(addresses or networks), walk ``X-Forwarded-For`` from the right, skipping our
own proxies, and take the first address they did not add; otherwise take
``REMOTE_ADDR`` and ignore the header.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not networks or not _is_trusted(remote, networks):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not _is_trusted(address, networks):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote  # a garbled header: fall back on the proxy's own address
    return remote
