"""Hostile input through the real router: each class the fuzzers found, pinned down.

Every one answers a clear 4xx JSON error, and a refused review leaves no
reviewer row behind (validation runs before anything is written).
"""

from __future__ import annotations

import json

import pytest

from apps.reviews.models import Review, Reviewer
from tests.factories import review_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reviews/"


def _post_raw(api, body: str):
    return api.generic("POST", URL, body.encode("utf-8", "surrogatepass"),
                       content_type="application/json")


@pytest.mark.parametrize("field,value", [
    ("text", "nul \x00 inside"),
    ("title", "escape \x1b[31m red"),
    ("created_at", "0001-01-01T00:00:00+23:59"),
    ("created_at", "9999-12-31T23:59:00-23:59"),
    ("created_at", "2026-02-30T10:00:00Z"),
    ("created_at", "2026-05-03T08:12:00+25:00"),
    ("visit_date", "2026-13-01"),
], ids=["nul", "escape", "year-1-plus-23-59", "year-9999-minus-23-59", "feb-30",
        "offset-25h", "month-13"])
def test_a_hostile_value_is_a_400_naming_the_field(api, establishment, field, value):
    response = api.post(URL, review_payload("htl-1", **{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_unpaired_surrogate_escape_is_a_400(api, establishment):
    body = json.dumps(review_payload("htl-1")).replace('"Nice stay"', '"bad \\ud800 title"')
    response = _post_raw(api, body)
    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]


def test_a_refused_review_leaves_no_reviewer_behind(api, establishment):
    api.post(URL, review_payload("htl-1", text="nul \x00 inside"), format="json")
    assert not Reviewer.objects.exists()
    assert not Review.objects.exists()


def test_a_batch_with_one_hostile_item_stores_no_reviewer(api, establishment):
    batch = [review_payload("htl-1"), review_payload("htl-1", created_at="0001-01-01T00:00+23:59")]
    response = api.post(URL, batch, format="json")
    assert response.status_code == 400
    assert not Reviewer.objects.exists()


def test_very_deep_json_nesting_is_a_400(api):
    response = _post_raw(api, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


@pytest.mark.parametrize("cursor", ["cD1hYmM=", "cD0tNQ==", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
                                    "bz0xJnA9eA=="])
def test_a_forged_pagination_cursor_is_a_404_invalid_cursor(api, cursor):
    response = api.get(URL, {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", [
    "/api/v1/reviews/%00/", "/api/v1/reviews/a%00b/", "/api/v1/establishments/%01/",
    "/api/v1/reviews/%ED%A0%80/", "/api/v1/cases/99999999999999999999999/",
    "/api/v1/threat-reports/-1/", "/api/v1/reviews/..%2F..%2Fetc/",
])
def test_odd_characters_in_path_parameters_are_a_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_cases_date_filter_past_postgresqls_offset_range_is_read_in_utc(api):
    response = api.get("/api/v1/cases/", {"created_before": "0708-04-07T21:18:17+17:42"})
    assert response.status_code == 200


def test_a_cases_date_filter_that_overflows_in_utc_is_a_400(api):
    response = api.get("/api/v1/cases/", {"created_after": "0001-01-01T00:00:00+23:59"})
    assert response.status_code == 400


@pytest.mark.parametrize("params", [
    {"created_before": "0708-04-07T21:18:17+17:42"},
    {"created_after": "2026-01-01T00:00:00-23:59"},
])
def test_a_reviews_date_filter_past_postgresqls_offset_range_is_read_in_utc(api, params):
    assert api.get(URL, params).status_code == 200


@pytest.mark.parametrize("value", ["1e999999", "-1e400", "NaN", "Infinity"])
def test_an_out_of_range_risk_filter_is_a_400(api, value):
    response = api.get(URL, {"min_risk": value})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
