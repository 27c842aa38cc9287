"""Reads of reviews shared by the API, the portal and the admin."""

from django.db.models import Prefetch, QuerySet

from apps.partners.models import Partner

from .models import Review


def reviews_of_partner(*, partner: Partner) -> QuerySet[Review]:
    from apps.cases.models import Case

    return (
        Review.objects.filter(partner=partner)
        .select_related("establishment", "reviewer")
        .prefetch_related(Prefetch("cases", queryset=Case.objects.only("id")))
    )
