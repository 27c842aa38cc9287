"""Report linkage tasks: small, idempotent, acks_late; they take ids and call services."""

from datetime import timedelta

from celery import shared_task

from apps.core.tasks import RELIABLE_TASK

from .services import enqueue_report_linkage, reports_link, reports_needing_linkage


@shared_task(**RELIABLE_TASK)
def link_threat_reports(self, report_ids: list[int]) -> dict:
    outcome = reports_link(report_ids=report_ids)
    return {"links": outcome.links, "held": outcome.held, "cases": list(outcome.cases)}


@shared_task(ignore_result=True)
def sweep_unlinked_reports(older_than_seconds: int = 120) -> int:
    """Re-enqueue reports whose linkage never ran (the broker may have lost the message)."""
    ids = reports_needing_linkage(older_than=timedelta(seconds=older_than_seconds))
    for start in range(0, len(ids), 100):
        enqueue_report_linkage(report_ids=ids[start : start + 100])
    return len(ids)
