"""Keyed hashing of personal identifiers.

E-mails, IPs, device ids and booking references never reach the database in
clear: we keep HMAC-SHA256(PII_HASH_KEY, kind + normalised value). The key is
global, so the same e-mail sent by two partners hashes the same and rings can
be linked across partners, while a database dump alone reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import unicodedata
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def _key(secret: str) -> bytes:
    return secret.encode()


def pii_hash(kind: str, value: str | None) -> str:
    """Hex HMAC of a normalised identifier, or "" when there is none."""
    if not value:
        return ""
    message = f"{kind}:{value}".encode()
    return hmac.new(_key(settings.PII_HASH_KEY), message, hashlib.sha256).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def normalise_booking_ref(ref: str) -> str:
    return "".join(ch for ch in ref.upper() if ch.isalnum())


def normalise_handle(handle: str) -> str:
    """Display names / handles compared without case, accents or punctuation."""
    folded = unicodedata.normalize("NFKD", handle.casefold())
    return "".join(ch for ch in folded if ch.isalnum())


def ip_network_prefix(ip: str) -> str:
    """The /24 of an IPv4 address (the /48 of an IPv6 one), as text."""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def email_hash(email: str) -> str:
    return pii_hash("email", normalise_email(email)) if email else ""


def booking_ref_hash(ref: str) -> str:
    return pii_hash("booking", normalise_booking_ref(ref)) if ref else ""


def device_hash(device_id: str) -> str:
    return pii_hash("device", device_id.strip()) if device_id else ""


def ip_hashes(ip: str) -> tuple[str, str]:
    """(hash of the address, hash of its /24) or ("", "")."""
    if not ip:
        return "", ""
    return pii_hash("ip", ip), pii_hash("ip24", ip_network_prefix(ip))
