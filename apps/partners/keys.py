"""API key format and hashing: ``rg_<prefix>_<secret>``, only SHA-256(secret) stored.

The secret has 256 bits of entropy, so a fast hash is safe here (no password
stretching needed); the prefix makes lookup a single indexed query.
"""

import hashlib
import secrets

KEY_PREFIX = "rg"


def new_key() -> tuple[str, str, str]:
    """Return (full key to show once, prefix to store, hash to store)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}_{prefix}_{secret}", prefix, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
