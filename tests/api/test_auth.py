"""API-key authentication and per-partner scoping."""

import pytest
from rest_framework.test import APIClient

from apps.partners.models import ApiKey
from tests.factories import EstablishmentFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def test_missing_key_is_401_json():
    response = APIClient().get("/api/v1/reviews/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_wrong_key_is_401_json(partner_api):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner_api.key[:-3]}xyz")
    response = client.get("/api/v1/reviews/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_malformed_key_is_401(partner_api):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key not-a-key")
    assert client.get("/api/v1/reviews/").status_code == 401


def test_revoked_key_is_401(partner_api):
    ApiKey.objects.filter(partner=partner_api.partner).update(revoked_at="2026-01-01T00:00:00Z")
    assert partner_api.client.get("/api/v1/reviews/").status_code == 401


def test_inactive_partner_is_401(partner_api):
    partner_api.partner.is_active = False
    partner_api.partner.save()
    assert partner_api.client.get("/api/v1/reviews/").status_code == 401


def test_another_partners_review_is_404(partner_api, other_partner_api):
    review = ReviewFactory(partner=other_partner_api.partner, external_id="theirs")
    response = partner_api.client.get(f"/api/v1/reviews/{review.external_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_partners_establishment_is_404(partner_api, other_partner_api):
    EstablishmentFactory(partner=other_partner_api.partner, external_id="their-hotel")
    assert partner_api.client.get("/api/v1/establishments/their-hotel/").status_code == 404


def test_review_list_shows_only_own_reviews(partner_api, other_partner_api):
    ReviewFactory(partner=partner_api.partner, external_id="mine")
    ReviewFactory(partner=other_partner_api.partner, external_id="theirs")
    ids = [r["external_id"] for r in partner_api.client.get("/api/v1/reviews/").json()["results"]]
    assert ids == ["mine"]


def test_reviews_may_not_reference_another_partners_establishment(partner_api, other_partner_api):
    from tests.factories import review_payload

    EstablishmentFactory(partner=other_partner_api.partner, external_id="their-hotel")
    response = partner_api.client.post(
        "/api/v1/reviews/", review_payload("their-hotel"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_establishment"


def test_partner_over_its_rate_limit_is_429(partner_api, monkeypatch):
    from django.core.cache import cache

    from apps.partners.throttling import PartnerRateThrottle

    cache.clear()
    monkeypatch.setattr(PartnerRateThrottle, "THROTTLE_RATES", {"partner": "2/min"})
    responses = [partner_api.client.get("/api/v1/reviews/") for _ in range(3)]
    cache.clear()
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[-1].json()["error"]["code"] == "rate_limited"


def test_key_revoked_after_use_is_refused_at_once(partner_api):
    assert partner_api.client.get("/api/v1/reviews/").status_code == 200
    key = ApiKey.objects.get(partner=partner_api.partner)
    key.revoked_at = "2026-01-01T00:00:00Z"
    key.save()
    assert partner_api.client.get("/api/v1/reviews/").status_code == 401
