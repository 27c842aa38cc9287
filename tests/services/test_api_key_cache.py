"""API keys remembered in-process (apps/partners/selectors.py): a revocation made by
another process (no signal here) is honoured within API_KEY_CACHE_SECONDS."""

import pytest
from django.utils import timezone

from apps.core import memo
from apps.partners import selectors
from apps.partners.models import ApiKey
from apps.partners.services import api_key_issue
from tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def key_revoked_elsewhere():
    key = api_key_issue(partner=PartnerFactory())
    assert selectors.api_key_lookup(key=key) is not None  # now remembered
    ApiKey.objects.update(revoked_at=timezone.now())  # .update(): no signal, as in another process
    return key


def test_the_remembering_delay_is_a_few_seconds():
    assert selectors.API_KEY_CACHE_SECONDS <= 5


def test_a_key_revoked_elsewhere_is_refused_once_the_delay_has_passed(clock, key_revoked_elsewhere):
    clock[0] += selectors.API_KEY_CACHE_SECONDS + 0.1
    assert selectors.api_key_lookup(key=key_revoked_elsewhere) is None


def test_a_key_revoked_elsewhere_is_still_remembered_within_the_delay(clock, key_revoked_elsewhere):
    clock[0] += selectors.API_KEY_CACHE_SECONDS / 2
    assert selectors.api_key_lookup(key=key_revoked_elsewhere) is not None
