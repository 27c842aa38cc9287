"""Reads of reviews and reviewers shared by the API, the portal, the admin and detection."""

from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from apps.partners.models import Partner

from .models import Review, Reviewer


def reviews_of_partner(*, partner: Partner) -> QuerySet[Review]:
    return Review.objects.filter(partner=partner).select_related("establishment", "reviewer")


def reviewer_handles(*, ids) -> dict[int, str]:
    """Reviewer id -> the public handle shown on the partner's site."""
    return dict(Reviewer.objects.filter(id__in=list(ids)).values_list("id", "display_name"))


def reviews_pending_for_scoring(*, older_than: timedelta) -> QuerySet[Review]:
    """Pending reviews last enqueued (or never enqueued) more than ``older_than`` ago."""
    cutoff = timezone.now() - older_than
    return Review.objects.filter(status=Review.Status.PENDING, dead_lettered_at__isnull=True).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=cutoff)
    )


def reviewer_identities(*, ids) -> dict[int, tuple[str, str, str]]:
    """Reviewer id -> (display name, external id, e-mail hash)."""
    return {
        rid: (name, ext, email)
        for rid, name, ext, email in Reviewer.objects.filter(id__in=list(ids)).values_list(
            "id", "display_name", "external_id", "email_hash"
        )
    }


def review_time_windows(*, ids) -> list[tuple[int, object, object]]:
    """(establishment id, first created_at, last created_at) of the given reviews."""
    return [
        (w["establishment_id"], w["first"], w["last"])
        for w in Review.objects.filter(id__in=list(ids))
        .values("establishment_id")
        .annotate(first=Min("created_at"), last=Max("created_at"))
    ]


def review_verdict_state(*, ids) -> dict[int, tuple[object, list]]:
    """Review id -> (partner, stored reason records), for re-deciding after new evidence."""
    return {
        r.id: (r.partner, r.risk_reasons or [])
        for r in Review.objects.filter(id__in=list(ids)).select_related("partner").only(
            "id", "risk_reasons", "partner"
        )
    }


def reviews_held_among(*, ids) -> int:
    return Review.objects.filter(id__any=list(ids), status=Review.Status.HELD).count()


def reviewer_anomaly_ranks(*, ids) -> dict[int, float]:
    return dict(Reviewer.objects.filter(id__in=list(ids), anomaly_rank__isnull=False)
                .values_list("id", "anomaly_rank"))


def reviewers_first_review_at(*, ids) -> dict[int, float]:
    """POSIX seconds of each reviewer's first review on its platform (one index walk each)."""
    firsts = (Review.objects.filter(reviewer_id__any=list(ids)).values("reviewer_id")
              .annotate(first=Min("created_at")).values_list("reviewer_id", "first"))
    return {reviewer: first.timestamp() for reviewer, first in firsts}


def review_status_counts(*, partner: Partner, start: datetime, end: datetime) -> dict[str, int]:
    """Reviews the partner sent in [start, end), by status, and how many were screened
    (scored, so no longer pending). One aggregate query."""
    by_status = {
        status: Count("id", filter=Q(status=status)) for status in Review.Status.values
    }
    return Review.objects.filter(partner=partner, received_at__gte=start,
                                 received_at__lt=end).aggregate(
        received=Count("id"), screened=Count("id", filter=~Q(status=Review.Status.PENDING)),
        **by_status,
    )
