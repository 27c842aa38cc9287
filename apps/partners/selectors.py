"""Reads of partner data shared by several callers."""

from __future__ import annotations

import hmac

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.core.memo import RecentValues

from .keys import hash_secret, split_key
from .models import ApiKey, WebhookAttempt, WebhookDelivery

#: Keys found valid are remembered in-process this long: one query less per
#: request. A revoked key or deactivated partner is refused within this delay
#: by every process (at once by the one that revoked it). At 100 requests/s a
#: process looks a key up once in ~500 requests: the saving is kept, the
#: window stays short.
API_KEY_CACHE_SECONDS = 5.0
_recent_keys: RecentValues[ApiKey] = RecentValues(seconds=API_KEY_CACHE_SECONDS, max_entries=10_000)


def api_key_remembered(*, key: str) -> ApiKey | None:
    """The live key matching ``key`` if this process checked it lately, else None
    (without reading the database)."""
    return _recent_keys.get(key)


def api_key_lookup(*, key: str) -> ApiKey | None:
    """The live key matching ``key`` (with its partner), or None."""
    remembered = _recent_keys.get(key)
    if remembered is not None:
        return remembered
    api_key = _api_key_from_database(key)
    if api_key is not None:
        _recent_keys.put(key, api_key)
    else:
        _recent_keys.discard(key)
    return api_key


def forget_cached_api_keys() -> None:
    _recent_keys.clear()


def _api_key_from_database(key: str) -> ApiKey | None:
    parts = split_key(key)
    if parts is None:
        return None
    prefix, secret = parts
    api_key = (
        ApiKey.objects.select_related("partner")
        .filter(prefix=prefix, revoked_at__isnull=True, partner__is_active=True)
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_secret(secret)):
        return None
    return api_key


def webhook_deliveries_due() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at")


def webhook_deliveries_of_partner(*, partner) -> QuerySet[WebhookDelivery]:
    """The partner's own deliveries, newest first, each with its last attempt's
    status code and error (two correlated subqueries: no query per row)."""
    last = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-number")
    return (
        WebhookDelivery.objects.filter(partner=partner)
        .annotate(last_status_code=Subquery(last.values("status_code")[:1]),
                  last_error=Subquery(last.values("error")[:1]),
                  last_attempted_at=Subquery(last.values("attempted_at")[:1]))
        .order_by("-id")
    )
