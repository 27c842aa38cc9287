"""``Authorization: Api-Key <key>`` authentication and the partner permission."""

import logging
import time
from dataclasses import dataclass
from typing import NoReturn

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from apps.core.clientip import client_ip

from .models import ApiKey, Partner
from .selectors import api_key_lookup, api_key_remembered


@dataclass(frozen=True)
class PartnerPrincipal:
    """What ``request.user`` is for API calls: the calling partner."""

    partner: Partner
    is_authenticated: bool = True

    @property
    def pk(self) -> int:
        return self.partner.pk


logger = logging.getLogger(__name__)


class BadKeyLimiter:
    """Counts refused API keys per client IP in a fixed window (cache).

    Past ``API_BAD_KEY_LIMIT`` refusals in ``API_BAD_KEY_WINDOW_SECONDS``, that
    client gets 429 with Retry-After until the window ends, good key or not, so
    keys cannot be guessed at speed. Fails open if the cache is unreachable.
    """

    @staticmethod
    def _window() -> tuple[str, int, float]:
        seconds = int(getattr(settings, "API_BAD_KEY_WINDOW_SECONDS", 60))
        window = int(time.time() // seconds)
        return str(window), seconds, (window + 1) * seconds - time.time()

    def _key(self, ip: str, window: str) -> str:
        return f"api-bad-key:{ip}:{window}"

    def counter_key(self, ip: str) -> str:
        """The cache key of this client's refusals in the current window."""
        return self._key(ip, self._window()[0])

    def wait_if_blocked(self, count: int) -> float | None:
        """Seconds until a client with ``count`` refusals in the current window may
        try again, or None if it may now."""
        limit = int(getattr(settings, "API_BAD_KEY_LIMIT", 100))
        return self._window()[2] if count >= limit else None

    def blocked_for(self, ip: str) -> float | None:
        """Seconds until this client may try again, or None if it may now."""
        try:
            count = cache.get(self.counter_key(ip), 0)
        except Exception as exc:  # any cache backend's connection error
            logger.warning("API key guessing not limited, cache unavailable: %s",
                           type(exc).__name__)
            return None
        return self.wait_if_blocked(count)

    def record(self, ip: str) -> None:
        window, seconds, _ = self._window()
        key = self._key(ip, window)
        try:
            cache.add(key, 0, timeout=seconds + 1)
            cache.incr(key)
        except ValueError:
            cache.add(key, 1, timeout=seconds + 1)
        except Exception as exc:  # any cache backend's connection error
            logger.warning("refused API key not counted, cache unavailable: %s",
                           type(exc).__name__)


bad_keys = BadKeyLimiter()


def raise_too_many_bad_keys(wait: float) -> NoReturn:
    raise exceptions.Throttled(wait=wait, detail="Too many invalid API keys.")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        ip = client_ip(request)
        key = key.strip()
        api_key = api_key_remembered(key=key)
        if api_key is not None:
            # A key this process checked lately: whether its client is blocked for
            # guessing keys is read with the partner's request count, in the same
            # cache round trip (PartnerRateThrottle).
            request.bad_keys_client = ip
            return PartnerPrincipal(partner=api_key.partner), api_key
        # Otherwise the database is read only for a client not blocked.
        wait = bad_keys.blocked_for(ip)
        if wait is not None:
            raise_too_many_bad_keys(wait)
        api_key = api_key_lookup(key=key)
        if api_key is None:
            bad_keys.record(ip)
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return PartnerPrincipal(partner=api_key.partner), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsPartner(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the Api-Key header in the OpenAPI schema."""

    target_class = "apps.partners.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, as printed by `manage.py create_partner`.",
        }
