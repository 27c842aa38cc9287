"""API v1 threat reports through the real router: JSON, multipart evidence, errors, scoping."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.reports.models import ThreatEvidence, ThreatReport
from apps.reviews import pii
from tests.factories import EstablishmentFactory
from tests.factories_reports import ThreatReportFactory, eml_bytes, pdf_bytes, png_bytes

URL = "/api/v1/threat-reports/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def report_payload(**overrides) -> dict:
    payload = {
        "establishment": "htl-1",
        "guest": {
            "name": "Jean Dupont",
            "email": "Jean.Dupont@example.org",
            "booking_ref": "bk-55120",
            "reviewer_handle": "jdupont75",
        },
        "channel": "email",
        "message_text": "Remboursez-moi la nuit, sinon je publie un avis à une étoile partout.",
        "demand": "refund",
        "received_at": "2026-05-02T19:40:00Z",
    }
    payload.update(overrides)
    return payload


def multipart(payload: dict, *files) -> dict:
    form = {k: v for k, v in payload.items() if k != "guest"}
    form.update({f"guest.{k}": v for k, v in payload["guest"].items()})
    form["evidence"] = list(files)
    return form


def test_json_report_is_201_and_keeps_guest_identifiers_only_as_hashes(api, establishment):
    response = api.post(URL, report_payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["establishment"] == "htl-1"
    assert body["guest"] == {"name": "Jean Dupont",
                             "identifiers": ["email", "booking_ref", "reviewer_handle"]}
    assert body["filed_by"] == "partner"
    report = ThreatReport.objects.get(id=body["id"])
    assert report.guest_email_hash == pii.email_hash("jean.dupont@example.org")
    assert report.guest_booking_ref_hash == pii.booking_ref_hash("BK55120")
    assert "example.org" not in str(body)


def test_create_schedules_linkage_after_commit(api, establishment,
                                                django_capture_on_commit_callbacks):
    with (
        mock.patch("apps.detection.tasks.link_threat_reports_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post(URL, report_payload(), format="json")

    delay.assert_called_once_with([response.json()["id"]])


def test_multipart_with_evidence_stores_files_under_media_root(api, establishment, media_root):
    files = (
        SimpleUploadedFile("capture.png", png_bytes(), content_type="image/png"),
        SimpleUploadedFile("facture.pdf", pdf_bytes(), content_type="application/pdf"),
        SimpleUploadedFile("menace.eml", eml_bytes(), content_type="message/rfc822"),
    )
    response = api.post(URL, multipart(report_payload(), *files), format="multipart")

    assert response.status_code == 201, response.json()
    evidence = response.json()["evidence"]
    assert [e["content_type"] for e in evidence] == [
        "image/png", "application/pdf", "message/rfc822"]
    stored = ThreatEvidence.objects.get(id=evidence[0]["id"])
    path = Path(stored.file.path)
    assert path.is_relative_to(media_root)
    assert path.read_bytes() == png_bytes()
    assert "capture" not in path.name  # never the uploaded name in a path


def test_multipart_accepts_guest_as_json_text(api, establishment):
    payload = report_payload()
    form = {k: v for k, v in payload.items() if k != "guest"}
    form["guest"] = '{"name": "Jean Dupont"}'

    response = api.post(URL, form, format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["guest"]["name"] == "Jean Dupont"


def test_evidence_whose_content_is_not_an_accepted_type_is_400(api, establishment):
    fake = SimpleUploadedFile("capture.png", b"<html><script>alert(1)</script></html>",
                              content_type="image/png")

    response = api.post(URL, multipart(report_payload(), fake), format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_evidence_type"
    assert "evidence[0]" in response.json()["error"]["fields"]
    assert not ThreatReport.objects.exists()


def test_evidence_whose_extension_disagrees_with_its_content_is_400(api, establishment):
    renamed = SimpleUploadedFile("invoice.pdf", png_bytes(), content_type="application/pdf")

    response = api.post(URL, multipart(report_payload(), renamed), format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_evidence_type"


def test_executable_evidence_is_400(api, establishment):
    exe = SimpleUploadedFile("photo.exe", b"MZ\x90\x00" + b"\x00" * 100)

    response = api.post(URL, multipart(report_payload(), exe), format="multipart")

    assert response.status_code == 400


def test_oversized_evidence_is_413_and_stores_nothing(api, establishment, settings):
    settings.REPORT_EVIDENCE_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.png", png_bytes() + b"\x00" * 2048, content_type="image/png")

    response = api.post(URL, multipart(report_payload(), big), format="multipart")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "evidence_too_large"
    assert not ThreatReport.objects.exists()
    assert not ThreatEvidence.objects.exists()


def test_another_partners_report_is_404(api, other_partner_api):
    theirs = ThreatReportFactory(establishment=EstablishmentFactory(
        partner=other_partner_api.partner))

    response = api.get(f"{URL}{theirs.id}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_shows_only_the_partners_reports(api, partner_api, other_partner_api):
    mine = ThreatReportFactory(establishment=EstablishmentFactory(partner=partner_api.partner))
    ThreatReportFactory(establishment=EstablishmentFactory(partner=other_partner_api.partner))

    response = api.get(URL)

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [mine.id]


def test_detail_shows_status_and_linked_reviews(api, partner_api):
    report = ThreatReportFactory(establishment=EstablishmentFactory(partner=partner_api.partner))

    response = api.get(f"{URL}{report.id}/")

    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["reviews"] == []


def test_missing_fields_are_400_with_every_field_named(api, establishment):
    response = api.post(URL, {"establishment": "htl-1"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"guest", "channel", "message_text", "demand", "received_at"}


def test_unknown_channel_and_bad_email_are_400(api, establishment):
    payload = report_payload(channel="pigeon")
    payload["guest"]["email"] = "not-an-email"

    response = api.post(URL, payload, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "channel" in fields
    assert fields["guest"] == {"email": ["Must be an e-mail address."]}


def test_report_naming_no_guest_identifier_is_400(api, establishment):
    response = api.post(URL, report_payload(guest={"name": "  "}), format="json")

    assert response.status_code == 400
    assert "guest" in response.json()["error"]["fields"]


def test_unknown_establishment_is_400(api, establishment):
    response = api.post(URL, report_payload(establishment="nope"), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_establishment"


def test_another_partners_establishment_is_unknown(api, other_partner_api):
    EstablishmentFactory(partner=other_partner_api.partner, external_id="theirs")

    response = api.post(URL, report_payload(establishment="theirs"), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_establishment"


def test_a_list_body_is_400_not_500(api, establishment):
    response = api.post(URL, [report_payload()], format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"


def test_malformed_json_is_400(api, establishment):
    response = api.post(URL, "{nope", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_guest_json_text_that_is_not_json_is_400(api, establishment):
    form = {k: v for k, v in report_payload().items() if k != "guest"}
    form["guest"] = "{oops"

    response = api.post(URL, form, format="multipart")

    assert response.status_code == 400


def test_without_api_key_is_401(establishment):
    from rest_framework.test import APIClient

    response = APIClient().get(URL)

    assert response.status_code == 401


def test_schema_documents_threat_reports(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")

    paths = response.json()["paths"]
    assert "/api/v1/threat-reports/" in paths
    content = paths["/api/v1/threat-reports/"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(content)
    assert "413" in paths["/api/v1/threat-reports/"]["post"]["responses"]
    guest = content["application/json"]["schema"]["properties"]["guest"]
    assert guest.get("required", ["none empty"]) != []  # OpenAPI 3.0 forbids required: []


def test_the_same_report_twice_answers_the_one_already_filed(api, establishment):
    first = api.post(URL, report_payload(), format="json")

    second = api.post(URL, report_payload(), format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert ThreatReport.objects.count() == 1


def test_a_report_with_another_message_is_a_new_report(api, establishment):
    api.post(URL, report_payload(), format="json")

    response = api.post(URL, report_payload(message_text="Another threat."), format="json")

    assert response.status_code == 201
    assert ThreatReport.objects.count() == 2


def test_the_same_report_with_other_evidence_is_a_new_report(api, establishment, media_root):
    api.post(URL, multipart(report_payload(), SimpleUploadedFile("a.png", png_bytes())),
             format="multipart")

    again = api.post(URL, multipart(report_payload(), SimpleUploadedFile("a.png", png_bytes())),
                     format="multipart")
    other = api.post(URL, multipart(report_payload(),
                                    SimpleUploadedFile("b.png", png_bytes(4, 4))),
                     format="multipart")

    assert again.status_code == 200
    assert other.status_code == 201


def test_validation_errors_follow_the_callers_language(api, establishment):
    response = api.post(URL, report_payload(channel="pigeon"), format="json",
                        HTTP_ACCEPT_LANGUAGE="fr")

    error = response.json()["error"]
    assert error["message"] == "La requête n'est pas valide."
    assert error["fields"]["channel"][0].startswith("Doit être l'une des valeurs")
