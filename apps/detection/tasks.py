"""Detection tasks: small, idempotent interfaces that load ids and call services.

Each task has an explicit, stable name; queues are chosen by name in
settings.CELERY_TASK_ROUTES (scoring, batch, reports, webhooks), so a platform
can give each workload its own workers.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.core.tasks import RELIABLE_TASK
from apps.reports.selectors import reports_needing_linkage
from apps.reviews.selectors import reviews_pending_for_scoring
from apps.reviews.services import reviews_mark_enqueued

from .services import (
    linkage_enqueue,
    reviews_score_isolating,
    scoring_enqueue,
    scoring_queue_depth,
)


@shared_task(name="scoring.score_reviews", expires=settings.SCORING_TASK_EXPIRES_SECONDS,
             **RELIABLE_TASK)
def score_reviews_task(self, review_ids: list[int]) -> dict:
    outcome = reviews_score_isolating(review_ids=review_ids)
    return {"scored": outcome.scored, "published": outcome.published, "held": outcome.held}


@shared_task(name="batch.score_historical", **RELIABLE_TASK)
def score_historical_task(self, review_ids: list[int]) -> dict:
    """A backfill's past reviews: scored in bulk on the batch queue, no webhooks."""
    outcome = reviews_score_isolating(review_ids=review_ids, historical=True)
    return {"scored": outcome.scored, "published": outcome.published, "held": outcome.held}


@shared_task(name="scoring.sweep_pending", ignore_result=True)
def sweep_pending_reviews_task(older_than_seconds: int | None = None) -> int:
    """Re-enqueue reviews still pending after a while (their message may be lost).

    Under a backlog a pending review is usually still queued, not lost: while
    the scoring queue holds messages the sweep leaves live reviews alone (the
    workers will reach them) and only picks up reviews never enqueued at all.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.PENDING_SWEEP_AFTER_SECONDS
    pending = reviews_pending_for_scoring(older_than=timedelta(seconds=older_than_seconds))
    backlog = scoring_queue_depth()
    if backlog:
        pending = pending.filter(enqueued_at__isnull=True)
    rows = list(pending.order_by("id").values_list("id", "historical")[:50_000])
    if not rows:
        return 0
    stamped = set(reviews_mark_enqueued(review_ids=[i for i, _ in rows]))
    scoring_enqueue(review_ids=[i for i, past in rows if not past and i in stamped])
    scoring_enqueue(review_ids=[i for i, past in rows if past and i in stamped], historical=True)
    return len(stamped)


@shared_task(name="reports.link", **RELIABLE_TASK)
def link_threat_reports_task(self, report_ids: list[int]) -> dict:
    from .linkage import reports_link

    outcome = reports_link(report_ids=report_ids)
    return {"links": outcome.links, "held": outcome.held, "cases": list(outcome.cases)}


@shared_task(name="reports.sweep_unlinked", ignore_result=True)
def sweep_unlinked_reports_task(older_than_seconds: int = 120) -> int:
    """Re-enqueue reports whose linkage never ran (the broker may have lost the message)."""
    ids = reports_needing_linkage(older_than=timedelta(seconds=older_than_seconds))
    for start in range(0, len(ids), 100):
        linkage_enqueue(report_ids=ids[start : start + 100])
    return len(ids)


@shared_task(
    name="batch.run_detection",
    # Acknowledged on receipt: a run outlasting the broker's visibility timeout
    # must not be delivered again, and a lost run is redone by the next beat.
    acks_late=False,
    ignore_result=True,
    # A million reviews take minutes, not the default five.
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 120,
)
def run_batch_detection_task(since: str | None = None) -> dict:
    """Reconciliation: rings, bursts, anomalous reviewers -> cases, one DetectionRun.

    Reads what was written since the last successful run (``since``, when not
    given; everything on the first run) plus the lookback the detectors need,
    so its cost follows the new reviews' period, not the table. Skipped while
    another reconciliation runs (``batch.reconciliation_slot``: beat and a
    manual ``manage.py detect`` may overlap).
    """
    from datetime import datetime

    from .batch import BatchParameters, reconciliation_slot, run_batch_detection
    from .models import DetectionRun

    with reconciliation_slot() as free:
        if not free:
            return {"skipped": "another run is in progress"}
        if since:
            start = datetime.fromisoformat(since)
        else:
            last = DetectionRun.objects.filter(status=DetectionRun.Status.SUCCEEDED).order_by(
                "-started_at").values_list("started_at", flat=True).first()
            # A little overlap: a review committed while the last run was reading.
            start = last - timedelta(minutes=10) if last else None
        run = run_batch_detection(params=BatchParameters(since=start))
    return {"run": run.pk, "counts": run.counts}


@shared_task(name="scoring.end_quiet_alerts", ignore_result=True)
def end_quiet_alerts_task() -> int:
    """End establishment alerts whose attack went quiet or whose case was decided."""
    from .services import alerts_reconcile

    return alerts_reconcile()


@shared_task(name="batch.calibrate", ignore_result=True, acks_late=False,
             time_limit=3600, soft_time_limit=3540)
def calibrate_task() -> str | None:
    """Refit from moderators' decisions (daily); adopt only when not worse."""
    from .calibration import scoring_model_calibrate

    record = scoring_model_calibrate()
    return record.version if record is not None else None
