"""Moderators see the threat report and its evidence on the case page; every opening is logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from apps.reports.models import EvidenceAccess
from tests.factories_cases import UserFactory, moderator, senior_moderator
from tests.factories_reports import OwnerMembershipFactory, extortion_case_with_evidence, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case_and_report():
    return extortion_case_with_evidence()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def file_url(report, name: str, case) -> str:
    evidence = report.evidence.get(original_name=name)
    return f"/admin/reports/threatreport/evidence/{evidence.pk}/?case={case.pk}"


def test_the_case_page_shows_the_threat_text_and_each_evidence_file(case_and_report):
    case, report = case_and_report

    html = client_for(moderator()).get(f"/admin/cases/case/{case.pk}/change/").text

    assert "Remboursez-moi" in html
    assert "<img" in html and file_url(report, "capture.png", case) in html
    assert "<iframe" in html and file_url(report, "facture.pdf", case) in html
    assert "menace.eml" in html and " download" in html


def test_a_moderator_opens_an_image_inline(case_and_report):
    case, report = case_and_report

    response = client_for(moderator()).get(file_url(report, "capture.png", case))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes(320, 180)
    assert "attachment" not in response.get("Content-Disposition", "")


def test_a_pdf_may_be_framed_by_the_case_page(case_and_report):
    case, report = case_and_report

    response = client_for(moderator()).get(file_url(report, "facture.pdf", case))

    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "sandbox" not in response["Content-Security-Policy"]


def test_an_email_is_downloaded_not_rendered(case_and_report):
    case, report = case_and_report

    response = client_for(senior_moderator()).get(file_url(report, "menace.eml", case))

    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_every_opening_is_logged_with_the_moderator_and_the_case(case_and_report):
    case, report = case_and_report
    reader = moderator()

    client_for(reader).get(file_url(report, "capture.png", case))
    client_for(reader).get(file_url(report, "capture.png", case))

    accesses = EvidenceAccess.objects.filter(user=reader)
    assert accesses.count() == 2
    assert {(a.case_id, a.via) for a in accesses} == {(case.pk, "admin")}


def test_the_case_page_lists_who_opened_the_evidence(case_and_report):
    case, report = case_and_report
    reader = moderator(first_name="Hugo", last_name="Bernard")
    client_for(reader).get(file_url(report, "capture.png", case))

    html = client_for(moderator()).get(f"/admin/cases/case/{case.pk}/change/").text

    assert 'id="evidence-log"' in html and "Hugo Bernard" in html


def test_another_cases_evidence_does_not_open_from_this_case(case_and_report):
    _case, report = case_and_report
    other_case, _ = extortion_case_with_evidence(files=("autre.png",))

    response = client_for(moderator()).get(file_url(report, "capture.png", other_case))

    assert response.status_code == 404
    assert not EvidenceAccess.objects.exists()


def test_staff_without_the_evidence_permission_are_refused(case_and_report):
    case, report = case_and_report

    response = client_for(UserFactory()).get(file_url(report, "capture.png", case))

    assert response.status_code == 403


def test_both_moderator_groups_may_view_threat_reports():
    for user in (moderator(), senior_moderator()):
        assert user.has_perm("reports.view_threatreport")
        assert user.has_perm("reports.view_threatevidence")
        assert user.has_perm("establishments.add_ownerinvitation")


def test_an_owner_download_in_the_portal_is_logged_too(case_and_report):
    _case, report = case_and_report
    owner = OwnerMembershipFactory(establishment=report.establishment).user
    evidence = report.evidence.get(original_name="capture.png")

    client_for(owner).get(f"/portal/evidence/{evidence.pk}/")

    assert EvidenceAccess.objects.get().via == "portal"


def test_the_access_log_is_append_only(case_and_report):
    case, report = case_and_report
    client_for(moderator()).get(file_url(report, "capture.png", case))
    access = EvidenceAccess.objects.get()

    with pytest.raises(PermissionDenied):
        access.save()
    with pytest.raises(PermissionDenied):
        access.delete()
