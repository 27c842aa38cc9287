"""Partner services: creation, API keys, webhook emission and delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import ApplicationError

from .keys import new_key
from .models import ApiKey, Partner, WebhookAttempt, WebhookDelivery
from .webhooks import UrlRefused, post_with_deadline, resolve_webhook_url

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
    if webhook_url:
        webhook_url_validate(url=webhook_url)
    partner = Partner.objects.create(
        name=name, webhook_url=webhook_url, webhook_secret=secrets.token_urlsafe(32)
    )
    return PartnerCreated(partner=partner, api_key=api_key_issue(partner=partner))


def api_key_issue(*, partner: Partner, label: str = "") -> str:
    key, prefix, key_hash = new_key()
    ApiKey.objects.create(partner=partner, prefix=prefix, key_hash=key_hash, label=label)
    return key


# --- Webhooks --------------------------------------------------------------------


def webhook_url_validate(*, url: str) -> None:
    """Refuse a webhook URL that is not public HTTPS (see apps/partners/webhooks.py)."""
    try:
        resolve_webhook_url(url)
    except UrlRefused as exc:
        raise ApplicationError(
            "invalid_webhook_url", str(exc), fields={"webhook_url": [str(exc)]}
        ) from None


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


def retry_schedule() -> list[float]:
    """Seconds to wait after each failed attempt; one attempt more than entries."""
    return [float(x) for x in settings.WEBHOOK_RETRY_SCHEDULE]


def _backoff_seconds(failed_attempts: int) -> float:
    """The schedule's delay after the n-th failure, plus up to 10% jitter.

    The jitter only spreads retries of many events that failed together; it
    never shortens the wait, so an outage of the receiver is retried for as
    long as the schedule says (about a day by default).
    """
    schedule = retry_schedule()
    base = schedule[min(failed_attempts, len(schedule)) - 1]
    return base * (1 + secrets.SystemRandom().uniform(0, 0.1))


def webhook_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one delivery attempt, record it, and schedule the next one if it failed.

    The attempt is recorded before the request is sent and completed after it,
    so an attempt cut short (worker killed, time limit) still shows in the log.
    The request itself ends within ``WEBHOOK_TIMEOUT_SECONDS`` whatever the
    receiver does.
    """
    deadline = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("partner")
            .filter(id=delivery_id)
            .first()
        )
        if delivery is None:
            return None  # gone (partner deleted): nothing owed any more
        if delivery.status != WebhookDelivery.Status.PENDING or (
            delivery.next_attempt_at and delivery.next_attempt_at > timezone.now()
        ):
            return delivery  # done, or not due: another attempt holds the lease
        delivery.attempts += 1
        number = delivery.attempts
        delivery.next_attempt_at = timezone.now() + timedelta(
            seconds=deadline + 30
        )  # a lease: the sweep leaves an in-flight attempt alone
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=number, error="in flight (no outcome recorded)"
        )

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
    outcome = post_with_deadline(partner.webhook_url, body=body, headers=headers, deadline=deadline)
    duration_ms = int((time.monotonic() - started) * 1000)

    with transaction.atomic():
        attempt.status_code = outcome.status_code
        attempt.error = outcome.error
        attempt.duration_ms = duration_ms
        attempt.save(update_fields=["status_code", "error", "duration_ms"])
        failed_in_a_row = number - delivery.redriven_after
        if not outcome.error:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif failed_in_a_row > len(retry_schedule()):
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = timezone.now() + timedelta(
                seconds=_backoff_seconds(failed_in_a_row)
            )
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    return delivery


def webhook_redeliver(*, delivery_ids: list[int]) -> int:
    """Re-drive failed deliveries: a fresh retry schedule, first attempt now.

    Only ``failed`` deliveries change; returns how many did. The earlier
    attempts stay in the log, numbered on from where they stopped.
    """
    from .tasks import deliver_webhook

    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update()
            .filter(id__in=delivery_ids, status=WebhookDelivery.Status.FAILED)
            .values_list("id", flat=True)
        )
        WebhookDelivery.objects.filter(id__in=ids).update(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at=timezone.now(),
            redriven_after=models.F("attempts"),
        )

        def enqueue() -> None:
            for delivery_id in ids:
                deliver_webhook.delay(delivery_id)

        transaction.on_commit(enqueue, robust=True)
    return len(ids)


#: At most this many failed deliveries are re-driven by one bulk request; the
#: answer says how many are left, so a partner repeats until none is.
REDELIVER_MAX = 1000


def webhook_redeliver_one(*, delivery: WebhookDelivery) -> None:
    """Re-drive one failed delivery (the partner's own: the caller scoped it).

    Anything but ``failed`` is refused with 409 ``delivery_not_failed``: a pending
    delivery is still being retried and a delivered one arrived.
    """
    if delivery.status != WebhookDelivery.Status.FAILED or not webhook_redeliver(
            delivery_ids=[delivery.pk]):
        delivery.refresh_from_db(fields=["status"])
        raise ApplicationError(
            "delivery_not_failed",
            _("Only a failed delivery can be re-driven; this one is %(status)s.")
            % {"status": delivery.status},
            status=409,
        )


def webhook_redeliver_failed(*, partner: Partner) -> tuple[int, int]:
    """Re-drive up to ``REDELIVER_MAX`` of the partner's failed deliveries, oldest
    first; returns (re-driven, failed ones still left)."""
    failed = WebhookDelivery.objects.filter(partner=partner, status=WebhookDelivery.Status.FAILED)
    ids = list(failed.order_by("id").values_list("id", flat=True)[:REDELIVER_MAX])
    redriven = webhook_redeliver(delivery_ids=ids)
    return redriven, failed.count()
