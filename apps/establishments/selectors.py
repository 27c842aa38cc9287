"""Reads of establishments shared by the API, the portal and detection."""

from django.db.models import Prefetch, QuerySet

from apps.core.db import rows_by_external_id
from apps.partners.models import Partner

from .models import Alert, Establishment, OwnerInvitation


def establishments_of_partner(*, partner: Partner) -> QuerySet[Establishment]:
    return Establishment.objects.filter(partner=partner)


def establishment_ids_by_external_id(*, partner: Partner, external_ids: set[str]) -> dict[str, int]:
    return dict(rows_by_external_id(Establishment, partner_id=partner.pk,
                                    external_ids=external_ids, columns=("id",)))


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
