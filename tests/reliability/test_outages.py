"""Outages of the cache and the database: 503 JSON with Retry-After, never 500.

The services are made really unreachable: the cache points at a closed port,
the database connection at a port bound by nobody that listens.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from apps.partners.throttling import PartnerRateThrottle
from tests.factories import review_payload

URL = "/api/v1/reviews/"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port bound but not listening: every connection to it is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def _redis_cache_at(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@contextmanager
def database_unreachable(port: int) -> Iterator[None]:
    """Point the open connection at a closed port; restore it on exit."""
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = port
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="moves a PostgreSQL connection to a closed port"
)


@pytest.mark.django_db
def test_ingest_goes_on_when_the_cache_is_unreachable(api, establishment, closed_port):
    with override_settings(CACHES=_redis_cache_at(closed_port)):
        response = api.post(URL, review_payload("htl-1", external_id="r-1"), format="json")
    assert response.status_code == 201


@pytest.mark.django_db
def test_throttle_limits_while_the_cache_is_reachable(api):
    cache.clear()  # no count left in the window by an earlier run
    original = PartnerRateThrottle.THROTTLE_RATES
    PartnerRateThrottle.THROTTLE_RATES = {"partner": "2/min"}
    try:
        statuses = [api.get(URL).status_code for _ in range(3)]
    finally:
        PartnerRateThrottle.THROTTLE_RATES = original
    assert statuses == [200, 200, 429]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_api_answers_503_json_with_retry_after_while_the_database_is_unreachable(
    partner_api, closed_port
):
    with database_unreachable(closed_port):
        response = partner_api.client.get(URL)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_api_recovers_without_a_restart_once_the_database_is_back(partner_api, closed_port):
    with database_unreachable(closed_port):
        assert partner_api.client.get(URL).status_code == 503
    assert partner_api.client.get(URL).status_code == 200


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_portal_sign_in_answers_a_503_page_while_the_database_is_unreachable(closed_port):
    client = Client(raise_request_exception=False)
    with database_unreachable(closed_port):
        response = client.post("/portal/login/", {"username": "a", "password": "b"})
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"temporarily unavailable" in response.content


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_readyz_reports_the_database_while_it_is_unreachable(closed_port):
    with database_unreachable(closed_port):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] != "ok"
