"""GET /api/v1/transparency/?period=YYYY-MM: the calling partner's own figures."""

from __future__ import annotations

import pytest

from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def test_it_answers_the_callers_figures_for_the_month(api, partner_api, other_partner_api):
    ReviewFactory(partner=partner_api.partner, status="held")
    ReviewFactory(partner=other_partner_api.partner, status="held")

    response = api.get("/api/v1/transparency/")

    assert response.status_code == 200
    body = response.json()
    assert body["reviews"]["held"] == 1
    assert set(body) == {"partner", "period", "reviews", "by_kind", "decisions", "appeals",
                         "reports"}


def test_an_earlier_month_is_empty(api, partner_api):
    ReviewFactory(partner=partner_api.partner, status="held")

    body = api.get("/api/v1/transparency/?period=2020-01").json()

    assert body["period"] == "2020-01"
    assert body["reviews"]["received"] == 0


def test_a_malformed_period_is_a_json_400(api):
    response = api.get("/api/v1/transparency/?period=May")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["period"]


def test_it_needs_an_api_key(client):
    response = client.get("/api/v1/transparency/")

    assert response.status_code in (401, 403)
    assert "error" in response.json()
