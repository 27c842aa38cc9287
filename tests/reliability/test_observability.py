"""Request ids in and out and in the logs, /metrics (protected), /readyz and the broker."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.cases.models import Case
from apps.core.observability import JsonFormatter, RequestIdFilter
from apps.detection.services import reviews_score
from apps.partners.models import WebhookDelivery
from apps.reviews.models import Review
from reviewguard.celery import app as celery_app
from tests.factories import PartnerFactory, ReviewFactory
from tests.factories_cases import UserFactory, ring_case

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def test_a_request_id_sent_is_answered_back(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


def test_a_request_id_is_made_when_none_is_sent(client):
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz")["X-Request-ID"])


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="evil\nInjected: yes")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_log_lines_written_during_a_request_are_json_with_its_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/api/v1/nowhere/", HTTP_X_REQUEST_ID="req-42")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().splitlines()[0])
    assert (line["request_id"], line["level"], line["logger"]) == (
        "req-42", "WARNING", "django.request")


def _metrics(client: Client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    return response.content.decode()


def _value(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.M)
    assert match, f"{name}{{{wanted}}} not in /metrics"
    return float(match.group(1))


def test_metrics_refuse_an_anonymous_caller(client):
    response = client.get("/metrics")
    assert response.status_code == 401


def test_metrics_refuse_a_wrong_token(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_metrics_answer_a_staff_user(client):
    client.force_login(UserFactory())
    assert client.get("/metrics").status_code == 200


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/api/v1/reviews/")  # 401: no key
    text = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert _value(text, "reviewguard_http_requests_total", method="GET",
                  route="api/v1/reviews/$", status="401") >= 1
    assert "reviewguard_http_request_duration_seconds_bucket" in text


def test_metrics_show_pending_reviews(client):
    ReviewFactory.create_batch(3, status=Review.Status.PENDING)
    text = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert _value(text, "reviewguard_reviews", status="pending") == 3


def test_metrics_show_cases_by_kind(client):
    ring_case()
    text = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert _value(text, "reviewguard_cases", kind=Case.Kind.SOCK_PUPPET_RING, status="open") == 1


def test_metrics_show_failed_webhook_deliveries(client):
    WebhookDelivery.objects.create(partner=PartnerFactory(), event="case.opened", dedupe_key="k1",
                                   payload={}, status=WebhookDelivery.Status.FAILED)
    text = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert _value(text, "reviewguard_webhook_deliveries", status="failed") == 1


def test_readyz_reports_the_broker_while_it_is_unreachable(client):
    saved = celery_app.conf.broker_write_url
    celery_app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        celery_app.conf.broker_write_url = saved
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] != "ok"


def _scoring_latency_count(client: Client) -> float:
    text = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return _value(text, "reviewguard_scoring_latency_seconds_count")


def test_metrics_observe_the_scoring_latency_of_each_scored_review(client):
    before = _scoring_latency_count(client)
    reviews = ReviewFactory.create_batch(2, status=Review.Status.PENDING)
    reviews_score(review_ids=[r.id for r in reviews])
    assert _scoring_latency_count(client) == before + 2


def test_the_scoring_latency_is_the_time_from_acceptance_to_verdict(client):
    review = ReviewFactory(status=Review.Status.PENDING)
    Review.objects.filter(pk=review.pk).update(received_at=timezone.now() - timedelta(seconds=40))
    text = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    over_30 = _value(text, "reviewguard_scoring_latency_seconds_bucket", le="60.0") - _value(
        text, "reviewguard_scoring_latency_seconds_bucket", le="30.0")
    reviews_score(review_ids=[review.id])
    text = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert _value(text, "reviewguard_scoring_latency_seconds_bucket", le="60.0") - _value(
        text, "reviewguard_scoring_latency_seconds_bucket", le="30.0") == over_30 + 1


def test_a_historical_backfill_is_not_observed_as_scoring_latency(client):
    before = _scoring_latency_count(client)
    review = ReviewFactory(status=Review.Status.PENDING)
    reviews_score(review_ids=[review.id], historical=True)
    assert _scoring_latency_count(client) == before
