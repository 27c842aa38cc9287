"""Health probes and the OpenAPI schema and docs."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_and_broker(client):
    body = client.get("/readyz").json()
    assert body["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_when_the_broker_is_down(client, monkeypatch):
    from apps.core import views

    monkeypatch.setattr(views, "_broker_ok", lambda: (False, "OperationalError"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_schema_is_public_openapi_3(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/reviews/" in schema["paths"]


def test_schema_documents_the_review_request_body(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    body = schema["paths"]["/api/v1/reviews/"]["post"]["requestBody"]["content"]["application/json"]
    single = body["schema"]["oneOf"][0]
    assert single["properties"]["rating"] == {"type": "integer", "minimum": 1, "maximum": 5}


def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"redoc" in response.content.lower()


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/swagger/"])
def test_docs_pages_load_nothing_from_another_site(client, path):
    html = client.get(path).content.decode()

    assert "/static/drf_spectacular_sidecar/" in html
    assert "https://" not in html and "//cdn" not in html


def test_the_docs_script_is_one_of_our_static_files():
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
