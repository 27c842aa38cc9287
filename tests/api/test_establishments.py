"""Establishments: single and bulk upsert, validation, listing."""

import pytest

from apps.establishments.models import Establishment
from tests.factories import establishment_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/establishments/"


def test_new_establishment_is_201(api):
    response = api.post(URL, establishment_payload(external_id="h-1"), format="json")
    assert response.status_code == 201
    assert response.json()["external_id"] == "h-1"


def test_same_establishment_again_is_200(api):
    payload = establishment_payload(external_id="h-1")
    api.post(URL, payload, format="json")
    assert api.post(URL, payload, format="json").status_code == 200
    assert Establishment.objects.count() == 1


def test_renamed_establishment_is_updated(api):
    api.post(URL, establishment_payload(external_id="h-1", name="Old"), format="json")
    api.post(URL, establishment_payload(external_id="h-1", name="New"), format="json")
    assert Establishment.objects.get(external_id="h-1").name == "New"


def test_bulk_establishments_answer_per_item(api):
    body = api.post(URL, [establishment_payload(), establishment_payload()], format="json").json()
    assert [r["result"] for r in body["results"]] == ["created", "created"]


def test_unknown_kind_is_rejected(api):
    response = api.post(URL, establishment_payload(kind="bar"), format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]


def test_country_must_be_iso_code(api):
    response = api.post(URL, establishment_payload(country="France"), format="json")
    assert "country" in response.json()["error"]["fields"]


def test_list_filters_by_kind(api):
    api.post(URL, [establishment_payload(kind="hotel"), establishment_payload(kind="restaurant")],
             format="json")
    body = api.get(URL, {"kind": "restaurant"}).json()
    assert [e["kind"] for e in body["results"]] == ["restaurant"]
