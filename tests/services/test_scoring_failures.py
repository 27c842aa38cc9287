"""A failure in one step or one review never holds a batch hostage, and a review
that keeps failing ends visibly dead-lettered instead of being swept forever."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.detection import services
from apps.detection.services import reviews_score_isolating
from apps.detection.tasks import sweep_pending_reviews_task
from apps.reviews.models import Review
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def statuses(reviews):
    return {r.id: Review.objects.get(id=r.id).status for r in reviews}


def test_a_linkage_failure_does_not_stop_the_batch(monkeypatch):
    reviews = [ReviewFactory() for _ in range(3)]

    def broken(**kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(services, "reports_link_reviews", broken)
    outcome = reviews_score_isolating(review_ids=[r.id for r in reviews])

    assert outcome.scored == 3
    assert Review.Status.PENDING not in statuses(reviews).values()


def test_a_live_detector_failure_does_not_stop_the_batch(monkeypatch):
    reviews = [ReviewFactory() for _ in range(3)]

    def broken(**kwargs):
        raise ValueError("a detector bug")

    monkeypatch.setattr(services, "detect_live", broken)
    assert reviews_score_isolating(review_ids=[r.id for r in reviews]).scored == 3


@pytest.fixture
def poison(monkeypatch):
    """Scoring fails whenever one particular review is in the batch."""
    bad = ReviewFactory(text="poison")
    real = services._languages

    def languages(reviews):
        if any(r.id == bad.id for r in reviews):
            raise RuntimeError("cannot score this one")
        return real(reviews)

    monkeypatch.setattr(services, "_languages", languages)
    return bad


def test_one_failing_review_is_isolated_and_the_rest_are_scored(poison):
    others = [ReviewFactory() for _ in range(5)]

    outcome = reviews_score_isolating(review_ids=[poison.id, *(r.id for r in others)])

    assert outcome.scored == 5
    poison.refresh_from_db()
    assert poison.status == Review.Status.PENDING
    assert poison.scoring_attempts == 1 and "cannot score" in poison.scoring_error


def test_a_review_that_keeps_failing_is_dead_lettered(poison, settings):
    settings.SCORING_MAX_ATTEMPTS = 3
    for _ in range(3):
        reviews_score_isolating(review_ids=[poison.id])
    poison.refresh_from_db()
    assert poison.dead_lettered_at is not None


def test_the_sweep_leaves_dead_lettered_reviews_alone(monkeypatch):
    ReviewFactory(enqueued_at=datetime.now(UTC) - timedelta(hours=1),
                  dead_lettered_at=datetime.now(UTC))
    monkeypatch.setattr("apps.detection.tasks.score_reviews_task.delay", lambda ids: None)
    assert sweep_pending_reviews_task(older_than_seconds=60) == 0


def test_retrying_a_dead_lettered_review_gives_it_a_fresh_start():
    from apps.reviews.services import reviews_retry_dead_lettered

    review = ReviewFactory(dead_lettered_at=datetime.now(UTC), scoring_attempts=5,
                           scoring_error="RuntimeError: boom")

    assert reviews_retry_dead_lettered(review_ids=[review.id]) == [review.id]

    review.refresh_from_db()
    assert review.dead_lettered_at is None and review.scoring_attempts == 0


def test_a_batch_that_took_a_failing_review_still_scores_its_own(poison, settings):
    settings.SCORING_FILL_AFTER_SECONDS = 0
    mine = ReviewFactory()

    assert reviews_score_isolating(review_ids=[mine.id]).scored >= 1

    mine.refresh_from_db()
    poison.refresh_from_db()
    assert mine.status != Review.Status.PENDING
    # Charged only by its own message, not by every batch that took it.
    assert poison.scoring_attempts == 0
