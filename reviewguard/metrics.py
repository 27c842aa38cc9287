"""``/metrics``: Prometheus text format, for a bearer token or a staff user.

Request counts and latency come from ``apps.core.observability`` (per process;
with several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` so that they are
summed). The state of the pipeline is read from the database and the broker at
scrape time, so it is the same whichever process answers: reviews by status and
the age of the oldest pending one, cases by kind and status, webhook
deliveries by status and failed attempts in the last hour, and the depth of
each Celery queue.
"""

from __future__ import annotations

import hmac
import os
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from apps.cases.models import Case
from apps.partners.models import WebhookAttempt, WebhookDelivery
from apps.reviews.models import Review
from reviewguard.celery import app as celery_app


class PipelineCollector:
    """Gauges read at scrape time from the database and the broker."""

    def collect(self):
        reviews = GaugeMetricFamily("reviewguard_reviews", "Reviews by status.", labels=["status"])
        counts = dict(Review.objects.values_list("status").annotate(n=Count("id")))
        for status in Review.Status.values:
            reviews.add_metric([status], counts.get(status, 0))
        yield reviews

        oldest = Review.objects.filter(status=Review.Status.PENDING).aggregate(t=Min("created_at"))
        age = (timezone.now() - oldest["t"]).total_seconds() if oldest["t"] else 0.0
        yield GaugeMetricFamily(
            "reviewguard_oldest_pending_review_age_seconds",
            "How long the oldest pending review has waited since it was written.", value=age,
        )

        cases = GaugeMetricFamily("reviewguard_cases", "Cases by kind and status.",
                                  labels=["kind", "status"])
        for kind, status, n in Case.objects.values_list("kind", "status").annotate(n=Count("id")):
            cases.add_metric([kind, status], n)
        yield cases

        deliveries = GaugeMetricFamily("reviewguard_webhook_deliveries",
                                       "Webhook deliveries by status.", labels=["status"])
        counts = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("id")))
        for status in WebhookDelivery.Status.values:
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries

        since = timezone.now() - timedelta(hours=1)
        yield GaugeMetricFamily(
            "reviewguard_webhook_failed_attempts_last_hour",
            "Webhook attempts in the last hour that did not get a 2xx.",
            value=WebhookAttempt.objects.filter(attempted_at__gte=since).exclude(error="").count(),
        )

        depth = _queue_depths()
        if depth:
            queues = GaugeMetricFamily("reviewguard_queue_messages",
                                       "Messages waiting in each Celery queue.", labels=["queue"])
            for name, n in depth.items():
                queues.add_metric([name], n)
            yield queues


def _queue_depths() -> dict[str, int]:
    """Messages ready in each known queue (passive declare: creates nothing)."""
    depths: dict[str, int] = {}
    try:
        with celery_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel = conn.default_channel
            for name in celery_app.amqp.queues:
                try:
                    depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
                except Exception:  # a queue not declared yet (AMQP closes the channel)
                    channel = conn.channel()
    except Exception:  # broker unreachable: /readyz says so; metrics carry on without it
        return {}
    return depths


_pipeline = PipelineCollector()


def _exposition() -> bytes:
    """This process's request metrics (or every process's, in multiprocess mode),
    then the pipeline's, read now."""
    pipeline = CollectorRegistry()
    pipeline.register(_pipeline)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    return generate_latest(requests) + generate_latest(pipeline)


def _allowed(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(
        header.removeprefix("Bearer ").strip().encode(), token.encode()
    ):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


@require_GET
def metrics(request) -> HttpResponse:
    if not _allowed(request):
        response = HttpResponse("Authentication required.\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_LATEST)
