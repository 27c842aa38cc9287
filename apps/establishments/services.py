"""Establishment upsert: idempotent on (partner, external_id)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from apps.partners.models import Partner

from .models import Establishment

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
