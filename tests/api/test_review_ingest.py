"""Creating reviews: single and bulk, idempotency and conflicts, verdict read-back."""

import pytest

from apps.reviews.models import Review
from tests.factories import ReviewFactory, review_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reviews/"


def test_new_review_is_201_and_pending(api, establishment):
    response = api.post(URL, review_payload("htl-1", external_id="r-1"), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert Review.objects.get(external_id="r-1").status == Review.Status.PENDING


def test_same_payload_again_is_200_with_the_stored_review(api, establishment):
    payload = review_payload("htl-1", external_id="r-1")
    api.post(URL, payload, format="json")
    response = api.post(URL, payload, format="json")
    assert response.status_code == 200
    assert response.json()["external_id"] == "r-1"
    assert Review.objects.count() == 1


def test_same_external_id_different_payload_is_409(api, establishment):
    api.post(URL, review_payload("htl-1", external_id="r-1", rating=4), format="json")
    response = api.post(URL, review_payload("htl-1", external_id="r-1", rating=1), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "review_conflict"
    assert Review.objects.get(external_id="r-1").rating == 4


def test_equivalent_timestamps_count_as_the_same_payload(api, establishment):
    payload = review_payload("htl-1", external_id="r-1", created_at="2026-05-03T08:12:00Z")
    api.post(URL, payload, format="json")
    payload["created_at"] = "2026-05-03T10:12:00+02:00"
    assert api.post(URL, payload, format="json").status_code == 200


def test_bulk_answers_per_item(api, establishment):
    existing = review_payload("htl-1", external_id="r-old")
    api.post(URL, existing, format="json")
    batch = [
        review_payload("htl-1", external_id="r-new"),
        existing,
        {**existing, "rating": 1},
    ]
    body = api.post(URL, batch, format="json").json()
    assert [(r["index"], r["status"], r["result"]) for r in body["results"]] == [
        (0, 201, "created"),
        (1, 200, "unchanged"),
        (2, 409, "conflict"),
    ]
    assert (body["created"], body["unchanged"], body["conflicts"]) == (1, 1, 1)


def test_bulk_of_1000_is_accepted(api, establishment):
    response = api.post(URL, [review_payload("htl-1") for _ in range(1000)], format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert Review.objects.count() == 1000


def test_duplicate_in_one_batch_is_stored_once(api, establishment):
    payload = review_payload("htl-1", external_id="twice")
    body = api.post(URL, [payload, payload], format="json").json()
    assert [r["status"] for r in body["results"]] == [201, 200]
    assert Review.objects.filter(external_id="twice").count() == 1


def test_conflicting_duplicate_in_one_batch_is_409(api, establishment):
    payload = review_payload("htl-1", external_id="twice")
    body = api.post(URL, [payload, {**payload, "rating": 2}], format="json").json()
    assert [r["status"] for r in body["results"]] == [201, 409]


def test_reviewer_is_shared_by_their_reviews(api, establishment):
    reviewer = {"external_id": "same-guest"}
    api.post(URL, [review_payload("htl-1", reviewer=reviewer) for _ in range(3)], format="json")
    assert Review.objects.values("reviewer").distinct().count() == 1


def test_get_review_shows_status_risk_and_cases(partner_api):
    review = ReviewFactory(
        partner=partner_api.partner,
        external_id="scored",
        status=Review.Status.HELD,
        risk_score=0.91,
        risk_reasons=[{"code": "new_account", "score": 1.0, "en": "New.", "fr": "Nouveau."}],
    )
    body = partner_api.client.get(f"{URL}{review.external_id}/").json()
    assert body["status"] == "held"
    assert body["risk"] == {
        "score": 0.91, "reasons": [{"code": "new_account", "score": 1.0, "detail": "New."}]}
    assert body["cases"] == []


def test_reason_details_follow_accept_language(partner_api):
    ReviewFactory(
        partner=partner_api.partner,
        external_id="fr",
        risk_reasons=[{"code": "new_account", "score": 1.0, "en": "New.", "fr": "Nouveau."}],
    )
    body = partner_api.client.get(f"{URL}fr/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert body["risk"]["reasons"][0]["detail"] == "Nouveau."


def test_list_filters_by_status(partner_api):
    ReviewFactory(partner=partner_api.partner, external_id="a", status=Review.Status.HELD)
    ReviewFactory(partner=partner_api.partner, external_id="b", status=Review.Status.PUBLISHED)
    body = partner_api.client.get(URL, {"status": "held"}).json()
    assert [r["external_id"] for r in body["results"]] == ["a"]


def test_list_is_cursor_paginated(partner_api):
    for i in range(3):
        ReviewFactory(partner=partner_api.partner, external_id=f"p{i}")
    first = partner_api.client.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    second = partner_api.client.get(first["next"]).json()
    assert [r["external_id"] for r in second["results"]] == ["p0"]


def test_an_optional_field_added_to_the_api_leaves_fingerprints_unchanged():
    from apps.core.validation import validate_object
    from apps.reviews.schemas import REVIEW_FIELDS
    from apps.reviews.services import payload_fingerprint
    from tests.factories import review_payload

    clean, _ = validate_object(REVIEW_FIELDS, review_payload(establishment="htl-1"))
    grown = {**clean, "new_optional": None,
             "reviewer": {**clean["reviewer"], "new_nested_optional": ""}}
    assert payload_fingerprint(grown) == payload_fingerprint(clean)


def test_a_review_stored_under_the_first_fingerprint_version_still_answers_200(
    partner_api, establishment
):
    from apps.core.validation import validate_object
    from apps.reviews.schemas import REVIEW_FIELDS
    from apps.reviews.services import _keyed_hash
    from tests.factories import review_payload

    item = review_payload(external_id="legacy-1", establishment="htl-1")
    assert partner_api.client.post(URL, item, format="json").status_code == 201
    clean, _ = validate_object(REVIEW_FIELDS, item)
    clean.pop("historical")  # version 1 predates that field
    Review.objects.filter(external_id="legacy-1").update(payload_hash=_keyed_hash(clean))
    assert partner_api.client.post(URL, item, format="json").status_code == 200


def test_a_review_sent_as_historical_is_scored_on_the_backfill_path(
    partner_api, establishment, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.factories import review_payload

    live, past = [], []
    monkeypatch.setattr("apps.detection.tasks.score_reviews_task.delay", live.append)
    monkeypatch.setattr("apps.detection.tasks.score_historical_task.delay", past.append)
    item = {**review_payload(external_id="past-1", establishment="htl-1"), "historical": True}
    with django_capture_on_commit_callbacks(execute=True):
        response = partner_api.client.post(URL, item, format="json")
    assert response.status_code == 201
    review = Review.objects.get(external_id="past-1")
    assert review.historical and past == [[review.id]] and live == []


def test_historical_must_be_a_boolean(partner_api, establishment):
    from tests.factories import review_payload

    item = {**review_payload(external_id="past-2", establishment="htl-1"), "historical": "yes"}
    response = partner_api.client.post(URL, item, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["historical"]
