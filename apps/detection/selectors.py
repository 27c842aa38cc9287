"""Reads that drive detection."""

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.reviews.models import Review


def reviews_pending_for_scoring(*, older_than: timedelta) -> QuerySet[Review]:
    """Pending reviews last enqueued (or never enqueued) more than ``older_than`` ago."""
    cutoff = timezone.now() - older_than
    return Review.objects.filter(status=Review.Status.PENDING).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=cutoff)
    )
