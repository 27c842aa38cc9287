"""Reads of cases shared by the API, the portal and the admin."""

from django.db.models import Prefetch, Q, QuerySet

from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review, Reviewer

from .models import Appeal, Case


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


def case_that_removed(*, review: Review) -> Case | None:
    """The latest confirmed case that removed this review, if it is still removed."""
    if review.status != Review.Status.REMOVED:
        return None
    contested = Q(status=Case.Status.CONFIRMED) | Q(
        appeals__status=Appeal.Status.OPEN, appeals__previous_status=Case.Status.CONFIRMED)
    return (Case.objects.filter(contested, reviews=review).distinct()
            .order_by("-decided_at", "-id").first())


def appeals_of_case(*, case: Case) -> QuerySet[Appeal]:
    return case.appeals.select_related("review", "filed_by", "previous_decided_by",
                                       "decided_by", "partner").order_by("created_at", "id")


def appeal_of_subject(*, subject: str) -> Appeal | None:
    return Appeal.objects.filter(subject=subject).first()
