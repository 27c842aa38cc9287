"""Uploads: over the cap refused while streaming (before the disk), polyglots and
lying extensions refused, too many form fields a clean 400 (JSON or a page)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client

from apps.reports.models import ThreatEvidence, ThreatReport
from tests.api.test_threat_reports import multipart, report_payload
from tests.factories_reports import OwnerMembershipFactory, pdf_bytes, png_bytes

URL = "/api/v1/threat-reports/"
CAPPED = "apps.reports.uploads.CappedUploadHandler"
TEMPORARY = "django.core.files.uploadhandler.TemporaryFileUploadHandler"
pytestmark = pytest.mark.django_db


class RecordingHandler(FileUploadHandler):
    """Sits where the disk-spooling handler sits and counts what reaches it."""

    files = 0
    received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        RecordingHandler.files += 1

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        RecordingHandler.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_HANDLERS = [CAPPED, f"{__name__}.RecordingHandler", TEMPORARY]
    RecordingHandler.files = RecordingHandler.received = 0


def _big_png(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("big.png", png_bytes() + b"\x00" * size, content_type="image/png")


def test_evidence_over_the_cap_is_413(api, establishment, settings):
    settings.REPORT_EVIDENCE_MAX_BYTES = 100_000
    response = api.post(URL, multipart(report_payload(), _big_png(1_000_000)), format="multipart")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "evidence_too_large"


def test_evidence_over_the_cap_stops_streaming_to_disk_at_the_cap(api, establishment, settings):
    settings.REPORT_EVIDENCE_MAX_BYTES = 100_000
    api.post(URL, multipart(report_payload(), _big_png(1_000_000)), format="multipart")
    assert RecordingHandler.received <= 100_000


def test_evidence_over_the_cap_stores_nothing(api, establishment, settings):
    settings.REPORT_EVIDENCE_MAX_BYTES = 100_000
    api.post(URL, multipart(report_payload(), _big_png(1_000_000)), format="multipart")
    assert not ThreatReport.objects.exists()
    assert not ThreatEvidence.objects.exists()


def test_a_request_over_the_total_cap_is_refused_before_a_byte_of_it_is_read(
    api, establishment, settings
):
    settings.UPLOAD_MAX_REQUEST_BYTES = 50_000
    response = api.post(URL, multipart(report_payload(), _big_png(200_000)), format="multipart")
    assert response.status_code == 413
    assert (RecordingHandler.files, RecordingHandler.received) == (0, 0)


def test_evidence_within_the_cap_still_goes_through(api, establishment, settings):
    settings.REPORT_EVIDENCE_MAX_BYTES = 100_000
    response = api.post(URL, multipart(report_payload(), _big_png(50_000)), format="multipart")
    assert response.status_code == 201


def test_the_portal_answers_413_with_its_form_for_evidence_over_the_cap(client, settings):
    settings.REPORT_EVIDENCE_MAX_BYTES = 100_000
    membership = OwnerMembershipFactory()
    client.force_login(membership.user)
    response = client.post("/portal/reports/new/", {
        "establishment": membership.establishment.pk, "guest_name": "X", "channel": "email",
        "demand": "refund", "received_at": "2026-05-02T19:40", "message_text": "Refund or else.",
        "evidence": _big_png(1_000_000),
    })
    assert response.status_code == 413
    assert "larger than" in response.content.decode()
    assert not ThreatReport.objects.exists()


@pytest.mark.parametrize("name,content", [
    ("capture.png", png_bytes() + b"<script>alert(document.cookie)</script>"),
    ("capture.png", png_bytes() + b"<svg onload=alert(1)>"),
    ("invoice.pdf", pdf_bytes().replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction 3 0 R")),
    ("invoice.pdf", pdf_bytes() + b"3 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n"),
], ids=["png-with-script", "png-with-svg", "pdf-open-action", "pdf-javascript"])
def test_a_polyglot_evidence_file_is_refused(api, establishment, name, content):
    upload = SimpleUploadedFile(name, content)
    response = api.post(URL, multipart(report_payload(), upload), format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_evidence_type"


@pytest.mark.parametrize("name,content", [
    ("invoice.pdf", png_bytes()),
    ("capture.png", pdf_bytes()),
    ("mail.eml", b"<html><body>not an e-mail</body></html>"),
])
def test_a_file_whose_extension_lies_about_its_bytes_is_refused(api, establishment, name, content):
    response = api.post(URL, multipart(report_payload(), SimpleUploadedFile(name, content)),
                        format="multipart")
    assert response.status_code == 400


def _fields(n: int) -> dict:
    return {f"f{i}": "x" for i in range(n)}


def test_1001_form_fields_answer_a_json_400_on_the_api(api):
    response = api.post(URL, _fields(1001), format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_fields"


def test_1001_form_fields_answer_a_styled_400_page_on_the_portal():
    response = Client().post("/portal/login/", _fields(1001))
    body = response.content.decode()
    assert response.status_code == 400
    assert "The request could not be read" in body
    assert "portal.css" in body
