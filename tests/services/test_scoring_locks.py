"""Scoring locks its reviews FOR NO KEY UPDATE: other scorers skip them, but another
transaction that only references them (a case gaining them as members) never waits."""

import threading

import pytest
from django.db import connection, transaction

from apps.cases.models import Case
from apps.reviews.services import reviews_lock_pending
from tests.factories import ReviewFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
]


def _hold_locks_while(review_ids, work):
    """Lock ``review_ids`` as a scoring batch does, in another connection, run ``work``
    meanwhile, then let the batch end; returns what ``work`` returned."""
    locked, release = threading.Event(), threading.Event()
    seen: list = []

    def batch():
        try:
            with transaction.atomic():
                seen.append([r.id for r in reviews_lock_pending(review_ids=review_ids)])
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=batch)
    thread.start()
    assert locked.wait(30)
    try:
        return seen, work()
    finally:
        release.set()
        thread.join(30)


def _commit_with_a_lock_timeout(fn):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '3s'")
        return fn()


def test_a_case_gains_a_review_another_batch_is_scoring_without_waiting():
    review = ReviewFactory()
    case = Case.objects.create(kind=Case.Kind.SOCK_PUPPET_RING, fingerprint="ring:test")

    def add_member():  # its foreign-key check runs at commit: it must not wait 3 s
        return _commit_with_a_lock_timeout(lambda: case.reviews.add(review))

    seen, _ = _hold_locks_while([review.id], add_member)
    assert seen == [[review.id]]
    assert list(case.reviews.values_list("id", flat=True)) == [review.id]


def test_a_second_scorer_skips_what_a_batch_holds():
    review = ReviewFactory()
    _, taken = _hold_locks_while(
        [review.id],
        lambda: _commit_with_a_lock_timeout(lambda: reviews_lock_pending(review_ids=[review.id])))
    assert taken == []
