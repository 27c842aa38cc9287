"""Through the API and a real worker on PostgreSQL and the real broker."""

import pytest
from celery.exceptions import OperationalError as CeleryOperationalError
from kombu.exceptions import OperationalError

from apps.detection.tasks import score_reviews_task as score_reviews
from apps.detection.tasks import sweep_pending_reviews_task as sweep_pending_reviews
from apps.reviews.models import Review
from reviewguard.celery import app as celery_app
from tests.factories import EstablishmentFactory, review_payload

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_BROKER = "redis://127.0.0.1:1/0"


def _status(external_id: str) -> str:
    return Review.objects.get(external_id=external_id).status


def test_posted_review_is_scored_by_the_worker(celery_worker_process, partner_api, wait_until):
    EstablishmentFactory(partner=partner_api.partner, external_id="htl-1")
    response = partner_api.client.post(
        "/api/v1/reviews/", review_payload("htl-1", external_id="live-1"), format="json"
    )
    assert response.status_code == 201
    wait_until(lambda: _status("live-1") != Review.Status.PENDING)
    body = partner_api.client.get("/api/v1/reviews/live-1/").json()
    assert body["status"] in ("published", "held")
    assert 0.0 <= body["risk"]["score"] <= 1.0


def test_bulk_batch_is_scored_by_the_worker(celery_worker_process, partner_api, wait_until):
    EstablishmentFactory(partner=partner_api.partner, external_id="htl-1")
    batch = [review_payload("htl-1") for _ in range(50)]
    assert partner_api.client.post("/api/v1/reviews/", batch, format="json").status_code == 200
    wait_until(lambda: not Review.objects.filter(status=Review.Status.PENDING).exists())
    assert Review.objects.filter(scored_at__isnull=False).count() == 50


def test_review_accepted_while_broker_down_is_scored_after_sweep(
    celery_worker_process, partner_api, wait_until, monkeypatch
):
    """The API answers 201 with the broker unreachable; the sweep scores it later."""
    EstablishmentFactory(partner=partner_api.partner, external_id="htl-1")
    failures = []

    def publish_to_dead_broker(ids):
        with celery_app.connection_for_write(DEAD_BROKER) as conn:
            try:
                score_reviews.apply_async((ids,), connection=conn, retry=False)
            except (OperationalError, CeleryOperationalError) as exc:
                failures.append(exc)
                raise

    monkeypatch.setattr(score_reviews, "delay", publish_to_dead_broker)
    response = partner_api.client.post(
        "/api/v1/reviews/", review_payload("htl-1", external_id="offline-1"), format="json"
    )
    assert response.status_code == 201
    # The publish goes out from the process's outbox a moment later, and fails.
    wait_until(lambda: failures, 10)
    assert _status("offline-1") == Review.Status.PENDING

    monkeypatch.undo()  # the broker is back
    sweep_pending_reviews.delay(0)
    wait_until(lambda: _status("offline-1") != Review.Status.PENDING)


def test_the_request_id_follows_the_review_into_its_scoring_task(
    celery_worker_process, partner_api, wait_until
):
    EstablishmentFactory(partner=partner_api.partner, external_id="htl-1")
    partner_api.client.post("/api/v1/reviews/", review_payload("htl-1", external_id="rid-1"),
                            format="json", HTTP_X_REQUEST_ID="rid-live-7f3a")
    wait_until(lambda: _status("rid-1") != Review.Status.PENDING)
    wait_until(lambda: any('"request_id": "rid-live-7f3a"' in line
                           and "score_reviews" in line for line in celery_worker_process), 10)
