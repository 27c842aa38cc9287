"""No raw e-mail, IP address, device id or booking reference sent through the API
is found anywhere afterwards: not in any text or JSON column of any table, not
in any log line written on the way (ingest, scoring, threat report, linkage).
"""

from __future__ import annotations

import logging

import pytest
from django.apps import apps
from django.db import models

from apps.detection.services import reviews_score
from apps.reports.models import ThreatReport
from apps.reviews.models import Review
from tests.factories import review_payload

pytestmark = pytest.mark.django_db

RAW = {
    "email": "Zoe.Secret-7731@example.org",
    "ip": "198.51.100.231",
    "device": "device-SECRET-9f8e2c",
    "booking": "BK-SECRET-550019",
    "guest_email": "Guest.Secret-4410@example.net",
    "guest_booking": "BK-SECRET-771203",
}
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


@pytest.fixture
def traffic(api, establishment, caplog, settings, tmp_path):
    """Everything the API accepts with the identifiers, then scoring, at DEBUG level."""
    settings.MEDIA_ROOT = tmp_path / "media"
    caplog.set_level(logging.DEBUG)
    reviewer = {"email": RAW["email"], "ip": RAW["ip"], "device_id": RAW["device"]}
    api.post("/api/v1/reviews/", review_payload("htl-1", reviewer=reviewer,
                                                booking_ref=RAW["booking"]), format="json")
    api.post("/api/v1/reviews/", [review_payload("htl-1", reviewer=reviewer,
                                                 booking_ref=RAW["booking"])], format="json")
    # Refused and conflicting ones too: Django logs those answers.
    api.post("/api/v1/reviews/", review_payload("htl-1", reviewer=reviewer, rating=9,
                                                booking_ref=RAW["booking"]), format="json")
    first = review_payload("htl-1", external_id="rv-pii", reviewer=reviewer)
    api.post("/api/v1/reviews/", first, format="json")
    api.post("/api/v1/reviews/", {**first, "rating": 1}, format="json")
    api.post("/api/v1/threat-reports/", {
        "establishment": "htl-1",
        "guest": {"name": "Zoé", "email": RAW["guest_email"], "booking_ref": RAW["guest_booking"]},
        "channel": "email", "message_text": "Refund me or one star.", "demand": "refund",
        "received_at": "2026-05-02T19:40:00Z",
    }, format="json")
    reviews_score(review_ids=list(Review.objects.values_list("id", flat=True)))
    assert Review.objects.count() == 3 and ThreatReport.objects.count() == 1
    return list(caplog.records)  # the records of this (setup) phase


def _needles() -> list[str]:
    values = list(RAW.values())
    return values + [v.lower() for v in values] + [v.upper() for v in values]


def test_no_raw_identifier_is_stored_in_any_column_of_any_table(traffic):
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS):
                continue
            for needle in RAW.values():
                if model._default_manager.filter(**{f"{field.name}__icontains": needle}).exists():
                    found.append(f"{model._meta.db_table}.{field.column}: {needle}")
    assert found == []


def test_no_raw_identifier_is_in_any_log_line(traffic):
    lines = [record.getMessage() for record in traffic]
    lines += [str(getattr(record, "args", "")) for record in traffic]
    leaks = [(needle, line) for line in lines for needle in _needles() if needle in line]
    assert lines, "the flow logged nothing: the scan would prove nothing"
    assert leaks == []
