"""Partner services: creation, API keys, webhook emission and delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError

from .keys import new_key
from .models import ApiKey, Partner, WebhookAttempt, WebhookDelivery

SIGNATURE_HEADER = "ReviewGuard-Signature"


@dataclass(frozen=True)
class PartnerCreated:
    partner: Partner
    api_key: str  # shown once, never stored


@transaction.atomic
def partner_create(*, name: str, webhook_url: str = "") -> PartnerCreated:
    name = name.strip()
    if not name:
        raise ApplicationError("invalid_name", "A partner needs a name.")
    if Partner.objects.filter(name=name).exists():
        raise ApplicationError("partner_exists", f"A partner named {name!r} already exists.")
    partner = Partner.objects.create(
        name=name, webhook_url=webhook_url, webhook_secret=secrets.token_urlsafe(32)
    )
    return PartnerCreated(partner=partner, api_key=api_key_issue(partner=partner))


def api_key_issue(*, partner: Partner, label: str = "") -> str:
    key, prefix, key_hash = new_key()
    ApiKey.objects.create(partner=partner, prefix=prefix, key_hash=key_hash, label=label)
    return key


# --- Webhooks --------------------------------------------------------------------


def sign_payload(*, secret: str, body: bytes, timestamp: int) -> str:
    """Header value ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(*, secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a partner runs on receipt; also used by the tests."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign_payload(secret=secret, body=body, timestamp=timestamp)
    return hmac.compare_digest(expected, header)


def webhook_emit(*, partner: Partner, event: str, data: dict, dedupe_key: str) -> WebhookDelivery | None:
    """Record an event owed to the partner and schedule its delivery after commit.

    Idempotent on ``dedupe_key``: emitting the same event twice records it once.
    Returns None when the partner has no webhook URL.
    """
    if not partner.webhook_url:
        return None
    delivery, created = WebhookDelivery.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "partner": partner,
            "event": event,
            "payload": {"event": event, "data": data},
            "next_attempt_at": timezone.now(),
        },
    )
    if created:
        from .tasks import deliver_webhook

        transaction.on_commit(lambda: deliver_webhook.delay(delivery.id), robust=True)
    return delivery


def _backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: 0..(10 s * 2^(attempt-1)), capped at 1 h."""
    return secrets.SystemRandom().uniform(0, min(3600.0, 10.0 * 2 ** (attempt - 1)))


def webhook_attempt(*, delivery_id: int) -> WebhookDelivery:
    """Make one delivery attempt, record it, and schedule the next one if it failed."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("partner")
            .get(id=delivery_id)
        )
        if delivery.status != WebhookDelivery.Status.PENDING:
            return delivery
        delivery.attempts += 1
        number = delivery.attempts
        delivery.next_attempt_at = timezone.now() + timedelta(
            seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 30
        )  # a lease: the sweep leaves an in-flight attempt alone
        delivery.save(update_fields=["attempts", "next_attempt_at"])

    partner = delivery.partner
    envelope = {
        "id": str(delivery.event_id),
        "created_at": delivery.created_at,
        "attempt": number,
        **delivery.payload,
    }
    body = json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ReviewGuard-Webhooks/1",
        "ReviewGuard-Event": delivery.event,
        "ReviewGuard-Delivery": str(delivery.event_id),
        SIGNATURE_HEADER: sign_payload(
            secret=partner.webhook_secret, body=body, timestamp=int(time.time())
        ),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        response = requests.post(
            partner.webhook_url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)

    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        if not error:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif number >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=_backoff_seconds(number))
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    return delivery
