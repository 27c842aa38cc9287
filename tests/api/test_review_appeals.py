"""POST /api/v1/reviews/{external_id}/appeal/: the author of a removed review appeals once."""

from __future__ import annotations

import pytest

from apps.cases.services import case_decide
from tests.factories import ReviewFactory
from tests.factories_cases import moderator, ring_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def removed_review(partner_api):
    case = ring_case(partner=partner_api.partner)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="A ring.")
    return case.reviews.order_by("id").first()


def url(review) -> str:
    return f"/api/v1/reviews/{review.external_id}/appeal/"


def test_the_appeal_is_created_and_the_case_reopened(api, removed_review):
    response = api.post(url(removed_review), {"statement": "I stayed there in May."},
                        format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["review"] == removed_review.external_id
    assert body["status"] == "open"
    case = api.get(f"/api/v1/cases/{body['case']}/").json()
    assert case["status"] == "open"


def test_a_second_appeal_answers_409(api, removed_review):
    api.post(url(removed_review), {"statement": "First."}, format="json")

    response = api.post(url(removed_review), {"statement": "Second."}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "appeal_exists"


def test_a_review_that_was_not_removed_answers_409(api, partner_api):
    review = ReviewFactory(partner=partner_api.partner, status="published")

    response = api.post(url(review), {"statement": "Why?"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "appeal_not_allowed"


def test_a_missing_statement_is_a_json_validation_error(api, removed_review):
    response = api.post(url(removed_review), {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "statement" in response.json()["error"]["fields"]


def test_another_partners_review_answers_404(other_partner_api, removed_review):
    response = other_partner_api.client.post(url(removed_review), {"statement": "Mine?"},
                                             format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_endpoint_is_in_the_schema(client):
    schema = client.get("/api/v1/schema/?format=json").json()

    assert "/api/v1/reviews/{external_id}/appeal/" in schema["paths"]
    assert "/api/v1/owner-invitations/" in schema["paths"]
