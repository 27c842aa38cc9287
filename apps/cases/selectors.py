"""Reads of cases shared by the API, the portal and the admin."""

from django.db.models import Prefetch, QuerySet

from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review, Reviewer

from .models import Case


def cases_of_partner(*, partner: Partner) -> QuerySet[Case]:
    """Cases touching the partner, with only the partner's own members prefetched."""
    return (
        Case.objects.filter(partners=partner)
        .prefetch_related(
            Prefetch("establishments", queryset=Establishment.objects.filter(partner=partner)),
            Prefetch("reviews", queryset=Review.objects.filter(partner=partner).only("id", "external_id")),
            Prefetch("reviewers", queryset=Reviewer.objects.filter(partner=partner).only("id", "external_id")),
        )
        .distinct()
    )


def cases_no_longer_open(*, ids) -> list[int]:
    return list(Case.objects.filter(id__in=list(ids)).exclude(status=Case.Status.OPEN)
                .values_list("id", flat=True))
