"""Fixtures shared by every test: partners with API keys and authenticated clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.detection.rowcache import recent_rows
from apps.establishments.selectors import forget_cached_establishment_ids
from apps.partners.models import Partner
from apps.partners.selectors import forget_cached_api_keys
from apps.partners.services import api_key_issue

from .factories import EstablishmentFactory, PartnerFactory


@dataclass
class PartnerClient:
    partner: Partner
    key: str
    client: APIClient


def _client_for(partner: Partner) -> PartnerClient:
    key = api_key_issue(partner=partner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return PartnerClient(partner=partner, key=key, client=client)


@pytest.fixture(autouse=True)
def _fresh_api_key_cache():
    """Each test starts with no API key or establishment id remembered from another test."""
    forget_cached_api_keys()
    forget_cached_establishment_ids()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Nothing cached by another test (throttle counts, table counts) leaks in."""
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_review_rows():
    """No review row kept by scoring in another test (whose rolled-back ids this
    test's database may give to other reviews) is used."""
    recent_rows().clear()


@pytest.fixture
def partner_api(db) -> PartnerClient:
    return _client_for(PartnerFactory())


@pytest.fixture
def other_partner_api(db) -> PartnerClient:
    return _client_for(PartnerFactory())


@pytest.fixture
def api(partner_api) -> APIClient:
    return partner_api.client


@pytest.fixture
def establishment(partner_api):
    return EstablishmentFactory(partner=partner_api.partner, external_id="htl-1")


@pytest.fixture
def celery_eager():
    """Tasks run in the calling thread (e-mails land in Django's locmem outbox)."""
    from reviewguard.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
