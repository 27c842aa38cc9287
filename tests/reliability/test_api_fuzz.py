"""Schemathesis over the project's own OpenAPI schema: every operation, generated
inputs (valid and invalid), through the real WSGI application.

Zero 5xx, and every documented response conforms to its schema. Bounded for
CI (a few examples per operation); `bench/fuzz.py` runs the same for longer.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from apps.establishments.models import Establishment
from reviewguard.wsgi import application

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def _connections_kept():
    """Serve requests in the test's transaction: Django's test client does the same,
    but here the real WSGI application runs, which closes connections per request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def _fuzzing(db, _connections_kept, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.API_BAD_KEY_LIMIT = 10**9  # the fuzzer sends bad keys on purpose
    cache.clear()


# The schema endpoint needs no database: it is read once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


# CI: 15 examples an operation, the same ones every run. bench/fuzz.py sets
# FUZZ_MAX_EXAMPLES (and FUZZ_RANDOM=1) for a longer, randomised search.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"


@pytest.mark.timeout(max(120, MAX_EXAMPLES * 10))
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not RANDOM,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_without_5xx_and_as_documented(case, _fuzzing, partner_api):
    # Hypothesis runs this body many times with the same fixtures.
    Establishment.objects.get_or_create(
        partner=partner_api.partner, external_id="htl-1",
        defaults={"name": "Hôtel", "kind": "hotel", "city": "Lyon", "country": "FR"},
    )
    case.call_and_validate(
        headers={"Authorization": f"Api-Key {partner_api.key}"}, checks=CHECKS,
    )
