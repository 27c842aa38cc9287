"""The landing page and the styled error pages, in English and French."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_landing_page_links_each_role_to_its_way_in(client):
    response = client.get("/")

    assert response.status_code == 200
    for href in ('href="/api/v1/docs/"', 'href="/portal/login/"', 'href="/admin/"'):
        assert href in response.text


def test_the_landing_page_speaks_french(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "Propriétaires" in response.text


@pytest.mark.parametrize("path", ["/nowhere/", "/portal/reports/999999/no/"])
def test_an_unknown_page_is_a_styled_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert "portal.css" in response.text
    assert "Page not found" in response.text


def test_the_404_page_is_in_french(client):
    response = client.get("/nowhere/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "Page introuvable" in response.text


def test_an_unknown_api_path_stays_a_json_error(client):
    response = client.get("/api/v1/nowhere/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_landing_page_links_each_partners_transparency_page(client):
    from tests.factories import PartnerFactory

    PartnerFactory(name="Voyages Azur")

    assert 'href="/transparency/voyages-azur/"' in client.get("/").text
