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


@dataclass(frozen=True)
class WebhookEvent:
    partner: Partner
    event: str
    data: dict
    dedupe_key: str


def webhooks_emit_many(*, events: list[WebhookEvent]) -> int:
    """``webhook_emit`` for many events in a few queries (the scoring hot path).

    Returns how many new deliveries were recorded.
    """
    wanted = [e for e in events if e.partner.webhook_url]
    if not wanted:
        return 0
    now = timezone.now()
    keys = [e.dedupe_key for e in wanted]
    known = set(WebhookDelivery.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                partner=e.partner,
                event=e.event,
                dedupe_key=e.dedupe_key,
                payload={"event": e.event, "data": e.data},
                next_attempt_at=now,
            )
            for e in wanted
            if e.dedupe_key not in known
        ],
        ignore_conflicts=True,
    )
    new_ids = list(
        WebhookDelivery.objects.filter(dedupe_key__in=set(keys) - known).values_list("id", flat=True)
    )
    if new_ids:
        from .tasks import deliver_webhook

        def enqueue() -> None:
            for delivery_id in new_ids:
                deliver_webhook.delay(delivery_id)

        transaction.on_commit(enqueue, robust=True)
    return len(new_ids)


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
        if delivery.status != WebhookDelivery.Status.PENDING or (
            delivery.next_attempt_at and delivery.next_attempt_at > timezone.now()
        ):
            return delivery  # done, or not due: another attempt holds the lease
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
