"""Detection tasks: small, idempotent, acks_late; they load ids and call services."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.core.tasks import RELIABLE_TASK
from apps.reviews.services import enqueue_scoring, reviews_mark_enqueued

from .selectors import reviews_pending_for_scoring
from .services import reviews_score


@shared_task(**RELIABLE_TASK)
def score_reviews(self, review_ids: list[int]) -> dict:
    outcome = reviews_score(review_ids=review_ids)
    return {"scored": outcome.scored, "published": outcome.published, "held": outcome.held}


@shared_task(ignore_result=True)
def sweep_pending_reviews(older_than_seconds: int | None = None) -> int:
    """Re-enqueue reviews still pending after a while (their message may be lost)."""
    if older_than_seconds is None:
        older_than_seconds = settings.PENDING_SWEEP_AFTER_SECONDS
    ids = list(
        reviews_pending_for_scoring(older_than=timedelta(seconds=older_than_seconds))
        .order_by("id")
        .values_list("id", flat=True)[:50_000]
    )
    if ids:
        reviews_mark_enqueued(review_ids=ids)
        enqueue_scoring(review_ids=ids)
    return len(ids)


@shared_task(
    # Acknowledged on receipt: a run outlasting the broker's visibility timeout
    # must not be delivered again, and a lost run is redone by the next beat.
    acks_late=False,
    ignore_result=True,
    # A million reviews take minutes, not the default five.
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 120,
)
def run_batch_detection(since: str | None = None) -> dict:
    """The periodic batch: rings, bursts, anomalous reviewers -> cases, one DetectionRun.

    Skipped while another run started in the last three hours is still
    running (beat and a manual ``manage.py detect`` may overlap).
    """
    from datetime import datetime

    from django.utils import timezone

    from .batch import BatchParameters
    from .batch import run_batch_detection as run_batch
    from .models import DetectionRun

    recent = timezone.now() - timedelta(hours=3)
    if DetectionRun.objects.filter(status=DetectionRun.Status.RUNNING,
                                   started_at__gte=recent).exists():
        return {"skipped": "another run is in progress"}
    params = BatchParameters(since=datetime.fromisoformat(since) if since else None)
    run = run_batch(params=params)
    return {"run": run.pk, "counts": run.counts}
