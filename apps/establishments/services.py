"""Establishments: upsert (idempotent on (partner, external_id)) and attack alerts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from apps.core.reasons import reasons_payload
from apps.partners.models import Partner
from apps.partners.services import WebhookEvent, webhook_emit, webhooks_emit_many

from .models import Alert, Establishment

FIELDS = ("name", "kind", "city", "country")


@dataclass(frozen=True)
class EstablishmentResult:
    establishment: Establishment
    created: bool
    updated: bool


@transaction.atomic
def establishments_upsert(*, partner: Partner, items: list[dict]) -> list[EstablishmentResult]:
    """Create or update establishments from validated items, in input order.

    An establishment's name or city may legitimately change, so a second
    payload under the same external_id updates it (200) rather than conflicting.
    """
    ids = [item["external_id"] for item in items]
    existing = {
        e.external_id: e
        for e in Establishment.objects.select_for_update().filter(
            partner=partner, external_id__in=ids
        )
    }
    results: list[EstablishmentResult] = []
    for item in items:
        current = existing.get(item["external_id"])
        if current is None:
            current = Establishment.objects.create(partner=partner, **item)
            existing[item["external_id"]] = current
            results.append(EstablishmentResult(current, created=True, updated=False))
            continue
        changed = [f for f in FIELDS if getattr(current, f) != item[f]]
        for f in changed:
            setattr(current, f, item[f])
        if changed:
            current.save(update_fields=[*changed, "updated_at"])
        results.append(EstablishmentResult(current, created=False, updated=bool(changed)))
    return results


# --------------------------------------------------------------------------- #
# Alerts: an establishment under an active attack (raised and ended by detection)


def _alert_payload(alert: Alert) -> dict:
    with translation.override(settings.LANGUAGE_CODE):
        reasons = reasons_payload(alert.reasons)
    return {
        "establishment": alert.establishment.external_id,
        "kind": alert.kind,
        "active": alert.ended_at is None,
        "since": alert.since.isoformat(),
        "ended_at": alert.ended_at.isoformat() if alert.ended_at else None,
        "counts": alert.counts,
        "reasons": reasons,
        "case": alert.case_id,
    }


def establishment_alerts_raise(
    *, establishment_ids: Iterable[int], kind: str, seen_at, counts: dict, reasons: list[dict],
    case_id: int | None,
) -> list[int]:
    """Raise an alert of ``kind`` on each establishment, or refresh the active one.

    A few statements whatever the number of establishments (a ring may target a
    hundred). Each alert that starts now is announced once with an
    ``establishment.alert`` webhook. Returns the ids of the alerts started.
    """
    wanted = sorted(set(establishment_ids))
    if not wanted:
        return []
    active = Alert.objects.filter(establishment_id__in=wanted, kind=kind, ended_at__isnull=True)
    known = set(active.values_list("establishment_id", flat=True))
    active.update(last_seen_at=seen_at, counts=counts, reasons=reasons,
                  **({"case_id": case_id} if case_id else {}))
    Alert.objects.bulk_create(
        [Alert(establishment_id=e, kind=kind, since=seen_at, last_seen_at=seen_at, counts=counts,
               reasons=reasons, case_id=case_id) for e in wanted if e not in known],
        ignore_conflicts=True,  # a concurrent batch may start the same alert
    )
    started = list(
        Alert.objects.select_related("establishment__partner")
        .filter(establishment_id__in=[e for e in wanted if e not in known], kind=kind,
                ended_at__isnull=True, since=seen_at)
    )
    webhooks_emit_many(events=[
        WebhookEvent(partner=a.establishment.partner, event="establishment.alert",
                     data=_alert_payload(a), dedupe_key=f"establishment.alert:{a.pk}:started")
        for a in started
    ])
    return [a.pk for a in started]


def establishment_alerts_end(*, quiet_since, case_ids_closed: Iterable[int] = ()) -> int:
    """End active alerts quiet since ``quiet_since`` or whose case was decided; each end
    is announced with an ``establishment.alert`` webhook. Returns how many ended."""
    closed = list(case_ids_closed)
    ended = 0
    now = timezone.now()
    candidates = Alert.objects.select_related("establishment__partner").filter(
        ended_at__isnull=True).filter(Q(last_seen_at__lt=quiet_since) | Q(case_id__in=closed))
    for alert in candidates:
        with transaction.atomic():
            if not Alert.objects.filter(pk=alert.pk, ended_at__isnull=True).update(ended_at=now):
                continue
            alert.ended_at = now
            webhook_emit(
                partner=alert.establishment.partner, event="establishment.alert",
                data=_alert_payload(alert), dedupe_key=f"establishment.alert:{alert.pk}:ended",
            )
            ended += 1
    return ended
