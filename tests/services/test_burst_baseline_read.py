"""The burst baseline's read: each touched establishment's negative reviews over
its period, from the partial index that holds only them (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.detection.loader import review_times
from apps.reviews.models import NEGATIVE_MAX_RATING
from ml.bursts import BurstDetector
from tests.factories import EstablishmentFactory, ReviewFactory

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def reviews_rated(establishment, ratings):
    return [ReviewFactory(establishment=establishment, rating=rating,
                          created_at=NOW - timedelta(days=k + 1))
            for k, rating in enumerate(ratings)]


def test_the_index_holds_what_the_burst_detector_counts_as_negative():
    assert BurstDetector().negative_max_rating == NEGATIVE_MAX_RATING


def test_review_times_reads_the_reviews_rated_at_most_the_bound():
    place = EstablishmentFactory()
    reviews = reviews_rated(place, [1, 2, 3, 5, 2])

    ids, places, _ = review_times(establishments=[place.id], max_rating=2.5,
                                  since=NOW - timedelta(days=30), until=NOW)

    assert sorted(ids.tolist()) == sorted(r.id for r in reviews if r.rating <= 2)
    assert set(places.tolist()) == {place.id}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_review_times_can_use_the_partial_index_of_negative_reviews():
    place = EstablishmentFactory()
    reviews_rated(place, [1, 4, 5])
    with CaptureQueriesContext(connection) as captured:
        review_times(establishments=[place.id], max_rating=2.0,
                     since=NOW - timedelta(days=30), until=NOW)
    sql = captured.captured_queries[-1]["sql"]

    with connection.cursor() as cursor:
        # Tiny tables are read whole; what matters is that the index's predicate
        # matches the query's bound, so the planner may use it at scale.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "review_negative_by_place" in plan
