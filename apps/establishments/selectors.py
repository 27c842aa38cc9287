"""Reads of establishments shared by the API, the portal and detection."""

from django.db.models import Prefetch, QuerySet

from apps.core.db import rows_by_external_id
from apps.core.memo import RecentValues
from apps.partners.models import Partner

from .models import Alert, Establishment, OwnerInvitation


def establishments_of_partner(*, partner: Partner) -> QuerySet[Establishment]:
    return Establishment.objects.filter(partner=partner)


#: How long a process trusts an establishment id it has read. Establishments are
#: never deleted (the admin cannot; the API has no delete) and their external ids
#: never change, so a remembered id cannot go stale; the bound only keeps the
#: memory fresh. A single review POST reads one (bench/RESULTS.md, issue 14).
ESTABLISHMENT_ID_CACHE_SECONDS = 300.0
_recent_ids: RecentValues[int] = RecentValues(seconds=ESTABLISHMENT_ID_CACHE_SECONDS,
                                              max_entries=100_000)


def establishment_ids_by_external_id(*, partner: Partner, external_ids: set[str]) -> dict[str, int]:
    """The ids of the partner's establishments among ``external_ids`` (unknown ones
    are absent), from this process's memory where it has them."""
    found: dict[str, int] = {}
    missing = []
    for external_id in external_ids:
        pk = _recent_ids.get((partner.pk, external_id))
        if pk is not None:
            found[external_id] = pk
        else:
            missing.append(external_id)
    if missing:
        for external_id, pk in rows_by_external_id(Establishment, partner_id=partner.pk,
                                                   external_ids=missing, columns=("id",)):
            _recent_ids.put((partner.pk, external_id), pk)
            found[external_id] = pk
    return found


def forget_cached_establishment_ids() -> None:
    _recent_ids.clear()


def establishment_names(*, ids) -> dict[int, str]:
    return dict(Establishment.objects.filter(id__in=list(ids)).values_list("id", "name"))


def active_alert_case_ids() -> list[int]:
    return list(Alert.objects.filter(ended_at__isnull=True, case_id__isnull=False)
                .values_list("case_id", flat=True))


def owner_invitations_of_partner(*, partner: Partner) -> QuerySet[OwnerInvitation]:
    return OwnerInvitation.objects.filter(partner=partner).prefetch_related(
        Prefetch("establishments", queryset=Establishment.objects.only("id", "external_id"))
    )


def active_alerts_of(*, establishment_ids) -> dict[int, Alert]:
    """The latest active attack alert of each establishment that has one."""
    out: dict[int, Alert] = {}
    for alert in Alert.objects.filter(establishment_id__in=list(establishment_ids),
                                      ended_at__isnull=True).order_by("last_seen_at"):
        out[alert.establishment_id] = alert
    return out
