"""Reads of partner data shared by several callers."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet
from django.utils import timezone

from .keys import hash_secret, split_key
from .models import ApiKey, WebhookDelivery


def api_key_lookup(*, key: str) -> ApiKey | None:
    """The live key matching ``key`` (with its partner), or None."""
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
