"""The ``__any`` lookup (apps/core/db.py): the same rows as ``__in``, one parameter."""

import pytest

from apps.reviews.models import Review
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def test_any_finds_the_rows_in_finds():
    reviews = ReviewFactory.create_batch(3)
    wanted = [reviews[0].id, reviews[2].id]
    assert (sorted(Review.objects.filter(id__any=wanted).values_list("id", flat=True))
            == sorted(Review.objects.filter(id__in=wanted).values_list("id", flat=True)))


def test_any_of_nothing_finds_nothing():
    ReviewFactory()
    assert not Review.objects.filter(id__any=[]).exists()


def test_any_works_on_a_foreign_key():
    review = ReviewFactory()
    ReviewFactory()
    assert list(Review.objects.filter(reviewer_id__any=[review.reviewer_id])) == [review]
