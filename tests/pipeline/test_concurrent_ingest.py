"""Concurrent bulk ingest on PostgreSQL: overlapping batches never deadlock into a 500."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.reviews.models import Review, Reviewer
from tests.factories import EstablishmentFactory, review_payload

pytestmark = pytest.mark.django_db(transaction=True)


def test_batches_sharing_reviewers_in_opposite_orders_all_succeed(partner_api):
    EstablishmentFactory(partner=partner_api.partner, external_id="htl-1")
    reviewers = [{"external_id": f"shared-{k:03d}"} for k in range(200)]
    batches = [
        [review_payload("htl-1", reviewer=r) for r in order]
        for order in (reviewers, reviewers[::-1], reviewers[::2] + reviewers[1::2], reviewers[::-1])
    ]
    statuses: list[int] = []
    start = threading.Barrier(len(batches))

    def post(batch):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner_api.key}")
        start.wait()
        try:
            statuses.append(client.post("/api/v1/reviews/", batch, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [200] * len(batches)
    assert Review.objects.count() == 800
    assert Reviewer.objects.count() == 200
