"""Owner portal pages through the Django test client: scoping, filing, evidence, language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.reports.models import ReportReviewLink, ThreatEvidence, ThreatReport
from apps.reviews.models import Review
from tests.factories import ReviewFactory
from tests.factories_reports import (
    OwnerFactory,
    OwnerMembershipFactory,
    ThreatReportFactory,
    png_bytes,
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(db):
    return OwnerMembershipFactory(establishment__name="Hôtel des Brotteaux").user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def other_report(db):
    stranger = OwnerMembershipFactory().establishment
    return ThreatReportFactory(establishment=stranger, guest_name="Someone")


def form_data(establishment, **overrides):
    data = {
        "establishment": establishment.id,
        "guest_name": "Jean Dupont",
        "guest_email": "jean@example.org",
        "guest_booking_ref": "",
        "guest_handle": "",
        "channel": "email",
        "demand": "refund",
        "received_at": (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "message_text": "Remboursez-moi sinon je publie un avis à une étoile.",
    }
    data.update(overrides)
    return data


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get("/portal/")

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/")


def test_dashboard_lists_only_the_owners_establishments(owner_client, other_report):
    response = owner_client.get("/portal/")

    assert response.status_code == 200
    assert "Hôtel des Brotteaux" in response.content.decode()
    assert other_report.establishment.name not in response.content.decode()


def test_owner_cannot_open_another_owners_report(owner_client, other_report):
    assert owner_client.get(f"/portal/reports/{other_report.id}/").status_code == 404


def test_another_owners_report_is_not_listed(owner_client, other_report):
    response = owner_client.get("/portal/reports/")

    assert response.status_code == 200
    assert f"#{other_report.id}<" not in response.content.decode()


def test_owner_cannot_download_another_owners_evidence(owner_client, other_report):
    evidence = ThreatEvidence.objects.create(
        report=other_report, file=SimpleUploadedFile("x.png", png_bytes()),
        original_name="x.png", content_type="image/png", size=10, sha256="0" * 64,
    )

    assert owner_client.get(f"/portal/evidence/{evidence.id}/").status_code == 404


def test_owner_downloads_own_evidence_with_no_sniffing(owner_client, owner):
    report = ThreatReportFactory(establishment=owner.memberships.get().establishment)
    evidence = ThreatEvidence.objects.create(
        report=report, file=SimpleUploadedFile("x.png", png_bytes()),
        original_name="capture.png", content_type="image/png", size=10, sha256="0" * 64,
    )

    response = owner_client.get(f"/portal/evidence/{evidence.id}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()


def test_staff_without_a_membership_cannot_open_an_owners_report(client, other_report):
    client.force_login(OwnerFactory(is_staff=True))

    assert client.get(f"/portal/reports/{other_report.id}/").status_code == 404


def test_filing_a_report_with_evidence_stores_it_for_the_owner(owner_client, owner):
    establishment = owner.memberships.get().establishment
    data = form_data(establishment)
    data["evidence"] = [SimpleUploadedFile("capture.png", png_bytes(), "image/png")]

    response = owner_client.post("/portal/reports/new/", data)

    report = ThreatReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/reports/{report.id}/"
    assert report.reporter == owner
    assert report.partner == establishment.partner
    assert report.evidence.get().original_name == "capture.png"


def test_report_form_refuses_a_disguised_file(owner_client, owner):
    data = form_data(owner.memberships.get().establishment)
    data["evidence"] = [SimpleUploadedFile("capture.png", b"<script>x</script>", "image/png")]

    response = owner_client.post("/portal/reports/new/", data)

    assert response.status_code == 400
    assert not ThreatReport.objects.exists()
    assert "capture.png" in response.content.decode()


def test_owner_cannot_file_for_someone_elses_establishment(owner_client, other_report):
    response = owner_client.post("/portal/reports/new/",
                                 form_data(other_report.establishment))

    assert response.status_code == 400
    assert ThreatReport.objects.count() == 1


def test_report_without_any_guest_detail_is_refused(owner_client, owner):
    data = form_data(owner.memberships.get().establishment, guest_name="", guest_email="")

    response = owner_client.post("/portal/reports/new/", data)

    assert response.status_code == 400
    assert not ThreatReport.objects.exists()


def test_detail_shows_the_review_held_because_of_the_report(owner_client, owner):
    establishment = owner.memberships.get().establishment
    report = ThreatReportFactory(establishment=establishment, status="linked")
    review = ReviewFactory(partner=establishment.partner, establishment=establishment,
                           rating=1, text="Horrible, never again.", status=Review.Status.HELD)
    ReportReviewLink.objects.create(report=report, review=review, methods="email", held=True)

    response = owner_client.get(f"/portal/reports/{report.id}/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert "Held for moderation" in page
    assert "Horrible, never again." in page
    assert "held because of this report" in page


def test_pages_follow_the_browsers_language(client, db):
    response = client.get("/portal/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    assert response.status_code == 200
    assert "Se connecter" in response.content.decode()


def test_language_switcher_sets_french(owner_client):
    owner_client.post("/i18n/setlang/", {"language": "fr", "next": "/portal/"})

    response = owner_client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en")

    assert "Signaler une menace" in response.content.decode()


def test_other_establishment_query_param_does_not_leak(owner_client, other_report):
    response = owner_client.get(f"/portal/reports/new/?establishment={other_report.establishment_id}")

    assert response.status_code == 200
    assert other_report.establishment.name not in response.content.decode()


def test_owner_without_establishment_gets_404_on_the_form(client, db):
    client.force_login(OwnerFactory())

    assert client.get("/portal/reports/new/").status_code == 404


def test_unknown_evidence_is_404(owner_client):
    assert owner_client.get("/portal/evidence/999999/").status_code == 404


def test_the_dashboard_card_and_table_count_held_reviews_alike(owner_client, owner):
    establishment = owner.memberships.get().establishment
    report = ThreatReportFactory(establishment=establishment)
    held = ReviewFactory(partner=establishment.partner, establishment=establishment,
                         status=Review.Status.HELD)
    published = ReviewFactory(partner=establishment.partner, establishment=establishment,
                              status=Review.Status.PUBLISHED)
    ReportReviewLink.objects.create(report=report, review=held, methods="email", held=True)
    ReportReviewLink.objects.create(report=report, review=published, methods="name")

    page = owner_client.get("/portal/")

    assert page.context["establishments"][0].reviews_held == 1
    assert "<td>1</td>" in page.text and "<td>2</td>" not in page.text


def test_the_dashboard_shows_an_attack_under_way_on_the_owners_establishment(owner_client, owner):
    from django.utils import timezone

    from apps.establishments.models import Alert

    establishment = owner.memberships.get().establishment
    now = timezone.now()
    Alert.objects.create(establishment=establishment, kind=Alert.Kind.REVIEW_BOMBING, since=now,
                         last_seen_at=now, counts={"reviews": 9, "held": 7, "reviewers": 9},
                         reasons=[{"code": "burst_new_accounts", "score": 0.9,
                                   "values": {"pct": 90, "days": 30}}])

    html = owner_client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Review bombing under way" in html and "held for a moderator: 7" in html


def test_the_dashboard_shows_no_alert_when_none_is_active(owner_client):
    assert "alert-attack" not in owner_client.get("/portal/").content.decode()
