"""Every bad input answers a 4xx JSON error naming the problem; nothing is stored."""

import json

import pytest

from apps.reviews.models import Review
from tests.factories import review_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reviews/"


def post(api, body):
    return api.post(URL, body, format="json")


def field_errors(response):
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]["fields"]


def test_rating_zero_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", rating=0))
    assert response.status_code == 400
    assert "rating" in field_errors(response)


def test_rating_six_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", rating=6))
    assert response.status_code == 400
    assert "rating" in field_errors(response)


def test_rating_as_string_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", rating="5"))
    assert response.status_code == 400
    assert field_errors(response)["rating"] == ["Must be an integer."]


def test_rating_as_boolean_is_rejected(api, establishment):
    assert post(api, review_payload("htl-1", rating=True)).status_code == 400


def test_text_of_wrong_type_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", text=["not", "a", "string"]))
    assert field_errors(response)["text"] == ["Must be a string."]


def test_missing_fields_are_each_named(api, establishment):
    response = post(api, {"external_id": "x"})
    assert response.status_code == 400
    assert set(field_errors(response)) == {"establishment", "reviewer", "rating", "text", "created_at"}


def test_missing_reviewer_id_is_named_inside_reviewer(api, establishment):
    payload = review_payload("htl-1")
    del payload["reviewer"]["external_id"]
    assert field_errors(post(api, payload))["reviewer"] == {
        "external_id": ["This field is required."]
    }


def test_unknown_establishment_is_400(api, establishment):
    response = post(api, review_payload("no-such-hotel"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_establishment"


def test_oversized_text_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", text="x" * 10_001))
    assert response.status_code == 400
    assert "text" in field_errors(response)


def test_batch_over_1000_is_413(api, establishment):
    response = post(api, [review_payload("htl-1") for _ in range(1001)])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"


def test_body_over_the_upload_limit_is_413(api, establishment, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(api, [review_payload("htl-1", text="y" * 5_000) for _ in range(5)])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_malformed_json_is_400(api, establishment):
    response = api.post(URL, data='{"external_id": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_unsupported_media_type_is_415(api, establishment):
    response = api.post(URL, data="rating=5", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_json_scalar_body_is_400(api, establishment):
    response = api.post(URL, data=json.dumps(42), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"


def test_empty_list_is_400(api, establishment):
    assert post(api, []).json()["error"]["code"] == "empty_batch"


def test_non_object_item_in_list_is_named_by_index(api, establishment):
    response = post(api, [review_payload("htl-1"), "oops"])
    assert response.status_code == 400
    assert list(field_errors(response)["items"]) == ["1"]


def test_bad_item_rejects_the_whole_batch(api, establishment):
    response = post(api, [review_payload("htl-1"), review_payload("htl-1", rating=9)])
    assert response.status_code == 400
    assert list(field_errors(response)["items"]) == ["1"]
    assert Review.objects.count() == 0


def test_unknown_establishment_in_batch_is_named_by_index(api, establishment):
    response = post(api, [review_payload("htl-1"), review_payload("nowhere")])
    assert response.json()["error"]["fields"] == {
        "1": {"establishment": ["Unknown establishment 'nowhere'."]}
    }
    assert Review.objects.count() == 0


def test_invalid_datetime_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", created_at="yesterday"))
    assert "created_at" in field_errors(response)


def test_future_datetime_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", created_at="2999-01-01T00:00:00Z"))
    assert field_errors(response)["created_at"] == ["Is in the future."]


def test_impossible_date_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", visit_date="2026-02-30"))
    assert "visit_date" in field_errors(response)


def test_invalid_email_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", reviewer={"email": "not-an-email"}))
    assert field_errors(response)["reviewer"] == {"email": ["Must be an e-mail address."]}


def test_invalid_ip_is_rejected(api, establishment):
    response = post(api, review_payload("htl-1", reviewer={"ip": "999.1.1.1"}))
    assert "ip" in field_errors(response)["reviewer"]


def test_invalid_language_code_is_rejected(api, establishment):
    assert "language" in field_errors(post(api, review_payload("htl-1", language="french")))


def test_unknown_route_under_api_is_json_404(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_method_not_allowed_is_405_json(api, establishment):
    response = api.delete(URL)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
