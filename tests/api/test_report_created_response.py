"""A threat report answered 201 is built from what filing stored, without reading it
back: it must be the same JSON, byte for byte, as reading the report afterwards."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories_reports import pdf_bytes, png_bytes

# media_root: that module's autouse fixture (evidence files under a temporary folder).
from .test_threat_reports import URL, media_root, multipart, report_payload  # noqa: F401

pytestmark = pytest.mark.django_db


def _read_back(api, created) -> bytes:
    assert created.status_code == 201, created.json()
    read = api.get(f"{URL}{created.json()['id']}/")
    assert read.status_code == 200
    return read.content


def test_a_json_report_answers_201_as_it_reads_back(api, establishment):
    created = api.post(URL, report_payload(received_at="2026-05-02T21:40:00.250+02:00"),
                       format="json")
    assert created.content == _read_back(api, created)


def test_a_report_with_evidence_answers_201_as_it_reads_back(api, establishment):
    files = (SimpleUploadedFile("capture.png", png_bytes(), content_type="image/png"),
             SimpleUploadedFile("facture.pdf", pdf_bytes(), content_type="application/pdf"))
    created = api.post(URL, multipart(report_payload(), *files), format="multipart")
    assert created.content == _read_back(api, created)


def test_a_new_report_is_answered_without_reading_it_back(api, establishment):
    api.get(URL)  # the API key is looked up once, then remembered for a few seconds
    with CaptureQueriesContext(connection) as queries:
        assert api.post(URL, report_payload(), format="json").status_code == 201
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # the establishment, and whether the same report was filed already
    assert len(selects) == 2, selects
