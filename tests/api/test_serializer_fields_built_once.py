"""Serializers with FieldsBuiltOnce answer exactly what DRF's own to_representation would."""

from datetime import UTC, date, datetime

import pytest
from rest_framework import serializers

from apps.reviews.api import ReviewSerializer
from apps.reviews.models import Review
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def _as_drf_would(review: Review, **context) -> dict:
    serializer = ReviewSerializer(review, context=context)
    return serializers.ModelSerializer.to_representation(serializer, review)


def test_a_scored_review_is_represented_as_drf_would(partner_api):
    review = ReviewFactory(
        partner=partner_api.partner, status=Review.Status.HELD, risk_score=0.91,
        visit_date=date(2026, 5, 1), created_at=datetime(2026, 5, 3, 8, 12, 0, 123456, tzinfo=UTC),
        risk_reasons=[{"code": "new_account", "score": 1.0, "en": "New.", "fr": "Nouveau."}])
    assert ReviewSerializer(review).data == _as_drf_would(review)


def test_a_review_without_optional_values_is_represented_as_drf_would(partner_api):
    review = ReviewFactory(partner=partner_api.partner, visit_date=None, title="", language="")
    assert ReviewSerializer(review).data == _as_drf_would(review)


def test_method_fields_see_the_context_of_the_serializer_at_hand(partner_api):
    review = ReviewFactory(partner=partner_api.partner)
    assert ReviewSerializer(review, context={"case_ids": [3, 1]}).data["cases"] == [1, 3]
    assert ReviewSerializer(review).data["cases"] == []
