"""Who may see and change what: partner A vs partner B over every API endpoint,
owner vs another owner (and staff) over every portal page and evidence download,
anonymous vs staff vs moderator over the admin pages.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.establishments.models import Establishment
from apps.partners.models import WebhookDelivery
from apps.reports.models import ThreatEvidence, ThreatReport
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, ReviewFactory, review_payload
from tests.factories_cases import UserFactory, moderator, ring_case, senior_moderator
from tests.factories_reports import (
    OwnerFactory,
    OwnerMembershipFactory,
    ThreatReportFactory,
    png_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


# --- API: partner A against partner B's objects --------------------------------------


@pytest.fixture
def b_objects(other_partner_api):
    """Partner B's establishment, review, case and threat report."""
    partner = other_partner_api.partner
    establishment = EstablishmentFactory(partner=partner, external_id="htl-b", name="B's hotel")
    review = ReviewFactory(partner=partner, establishment=establishment, external_id="rv-b")
    case = ring_case(partner=partner)
    report = ThreatReportFactory(establishment=establishment)
    delivery = WebhookDelivery.objects.create(
        partner=partner, event="case.opened", dedupe_key="b-delivery", payload={},
        status=WebhookDelivery.Status.FAILED)
    return {"establishment": establishment, "review": review, "case": case, "report": report,
            "delivery": delivery}


@pytest.mark.parametrize("path", [
    "/api/v1/establishments/htl-b/",
    "/api/v1/reviews/rv-b/",
    "/api/v1/cases/{case}/",
    "/api/v1/threat-reports/{report}/",
    "/api/v1/webhook-deliveries/{delivery}/",
])
def test_partner_a_cannot_read_partner_b_objects(api, b_objects, path):
    url = path.format(case=b_objects["case"].pk, report=b_objects["report"].pk,
                      delivery=b_objects["delivery"].pk)
    response = api.get(url)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path,key", [
    ("/api/v1/establishments/", "external_id"),
    ("/api/v1/reviews/", "external_id"),
    ("/api/v1/cases/", "id"),
    ("/api/v1/threat-reports/", "id"),
    ("/api/v1/webhook-deliveries/", "event_id"),
])
def test_partner_a_lists_none_of_partner_b_objects(api, b_objects, path, key):
    listed = {str(item[key]) for item in api.get(path).json()["results"]}
    theirs = {"htl-b", "rv-b", str(b_objects["case"].pk), str(b_objects["report"].pk),
              str(b_objects["delivery"].event_id)}
    assert not listed & theirs


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("path", [
    "/api/v1/establishments/htl-b/",
    "/api/v1/reviews/rv-b/",
    "/api/v1/cases/{case}/",
    "/api/v1/threat-reports/{report}/",
    "/api/v1/webhook-deliveries/{delivery}/",
])
def test_partner_a_cannot_change_or_delete_partner_b_objects(api, b_objects, method, path):
    url = path.format(case=b_objects["case"].pk, report=b_objects["report"].pk,
                      delivery=b_objects["delivery"].pk)
    response = getattr(api, method)(url, {"name": "pwned", "status": "dismissed"}, format="json")
    assert response.status_code in (404, 405)
    assert Establishment.objects.get(external_id="htl-b").name == "B's hotel"
    assert Review.objects.filter(external_id="rv-b").exists()


def test_partner_a_cannot_redeliver_partner_b_webhook_deliveries(api, b_objects):
    url = f"/api/v1/webhook-deliveries/{b_objects['delivery'].pk}/redeliver/"
    assert api.post(url).status_code == 404
    api.post("/api/v1/webhook-deliveries/redeliver/")
    b_objects["delivery"].refresh_from_db()
    assert b_objects["delivery"].status == WebhookDelivery.Status.FAILED


def test_partner_a_cannot_post_a_review_to_partner_b_establishment(api, b_objects):
    response = api.post("/api/v1/reviews/", review_payload("htl-b"), format="json")
    assert response.status_code == 400
    assert not Review.objects.filter(establishment=b_objects["establishment"]).exclude(
        external_id="rv-b").exists()


def test_partner_a_cannot_file_a_report_on_partner_b_establishment(api, b_objects):
    before = ThreatReport.objects.count()
    response = api.post("/api/v1/threat-reports/", {
        "establishment": "htl-b", "guest": {"name": "X"}, "channel": "email",
        "message_text": "Refund or one star.", "demand": "refund",
        "received_at": "2026-05-02T19:40:00Z",
    }, format="json")
    assert response.status_code in (400, 404)
    assert ThreatReport.objects.count() == before


def test_partner_a_posting_the_same_establishment_id_creates_its_own(api, partner_api, b_objects):
    api.post("/api/v1/establishments/", {"external_id": "htl-b", "name": "A's hotel",
                                         "kind": "hotel", "city": "Lyon", "country": "FR"},
             format="json")
    assert Establishment.objects.get(pk=b_objects["establishment"].pk).name == "B's hotel"
    assert Establishment.objects.get(partner=partner_api.partner, external_id="htl-b")


def test_the_cases_establishment_filter_ignores_another_partners_establishment(
    api, partner_api, b_objects
):
    case = b_objects["case"]
    case.partners.add(partner_api.partner)  # a case shared by both partners
    case.establishments.add(b_objects["establishment"])
    response = api.get("/api/v1/cases/", {"establishment": "htl-b"})
    assert response.json()["results"] == []


def test_the_cases_establishment_filter_finds_the_partners_own(api, partner_api, b_objects):
    case = b_objects["case"]
    mine = EstablishmentFactory(partner=partner_api.partner, external_id="htl-a")
    case.partners.add(partner_api.partner)
    case.establishments.add(mine)
    response = api.get("/api/v1/cases/", {"establishment": "htl-a"})
    assert [c["id"] for c in response.json()["results"]] == [case.pk]


def test_two_thousand_bad_api_keys_in_a_row_end_in_429_with_retry_after(client):
    statuses = []
    for n in range(2000):
        response = client.get("/api/v1/reviews/", HTTP_AUTHORIZATION=f"Api-Key rg_bad{n}.x",
                               REMOTE_ADDR="198.51.100.9")
        statuses.append(response.status_code)
    assert statuses[0] in (401, 403)
    assert statuses[-1] == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "rate_limited"


def test_a_client_blocked_for_bad_keys_is_blocked_even_with_a_good_key(
    client, partner_api, settings
):
    settings.API_BAD_KEY_LIMIT = 3
    for n in range(3):
        client.get("/api/v1/reviews/", HTTP_AUTHORIZATION=f"Api-Key bad{n}",
                   REMOTE_ADDR="198.51.100.9")
    response = client.get("/api/v1/reviews/", HTTP_AUTHORIZATION=f"Api-Key {partner_api.key}",
                          REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429


def test_a_client_blocked_for_bad_keys_is_blocked_with_a_key_it_used_before(
    client, partner_api, settings
):
    # The good key is remembered by the process after its first use, so the
    # block is read with the rate count (PartnerRateThrottle), not before the lookup.
    settings.API_BAD_KEY_LIMIT = 3
    good = {"HTTP_AUTHORIZATION": f"Api-Key {partner_api.key}", "REMOTE_ADDR": "198.51.100.9"}
    assert client.get("/api/v1/reviews/", **good).status_code == 200
    for n in range(3):
        client.get("/api/v1/reviews/", HTTP_AUTHORIZATION=f"Api-Key bad{n}",
                   REMOTE_ADDR="198.51.100.9")
    response = client.get("/api/v1/reviews/", **good)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "rate_limited"


def test_bad_keys_from_one_client_do_not_block_another(client, partner_api, settings):
    settings.API_BAD_KEY_LIMIT = 3
    for n in range(3):
        client.get("/api/v1/reviews/", HTTP_AUTHORIZATION=f"Api-Key bad{n}",
                   REMOTE_ADDR="198.51.100.9")
    response = client.get("/api/v1/reviews/", HTTP_AUTHORIZATION=f"Api-Key {partner_api.key}",
                          REMOTE_ADDR="203.0.113.20")
    assert response.status_code == 200


# --- Portal: owner against another owner, staff and superusers -----------------------


@pytest.fixture
def theirs():
    """Another owner's establishment, report and evidence file."""
    membership = OwnerMembershipFactory(establishment__name="Chez Quelqu'un d'Autre")
    report = ThreatReportFactory(establishment=membership.establishment, guest_name="Zoé Secret")
    evidence = ThreatEvidence.objects.create(
        report=report, file=SimpleUploadedFile("x.png", png_bytes()),
        original_name="capture.png", content_type="image/png", size=10, sha256="0" * 64,
    )
    return {"establishment": membership.establishment, "report": report, "evidence": evidence}


def _owner():
    return OwnerMembershipFactory(establishment__name="Hôtel à Moi").user


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


VISITORS = {
    "another owner": _owner,
    "staff without a membership": lambda: OwnerFactory(is_staff=True),
    "superuser without a membership": lambda: OwnerFactory(is_staff=True, is_superuser=True),
}


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("page", ["/portal/reports/{report}/", "/portal/evidence/{evidence}/"])
def test_nobody_but_the_owner_opens_a_report_or_its_evidence(theirs, who, page):
    url = page.format(report=theirs["report"].pk, evidence=theirs["evidence"].pk)
    assert _signed_in(VISITORS[who]()).get(url).status_code == 404


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("page", ["/portal/", "/portal/reports/"])
def test_another_owners_establishment_and_report_are_not_listed(theirs, who, page):
    response = _signed_in(VISITORS[who]()).get(page)
    body = response.content.decode()
    assert response.status_code in (200, 404)
    assert "Zoé Secret" not in body
    assert "Chez Quelqu" not in body


@pytest.mark.parametrize("who", VISITORS)
def test_nobody_files_a_report_for_another_owners_establishment(theirs, who):
    before = ThreatReport.objects.count()
    response = _signed_in(VISITORS[who]()).post("/portal/reports/new/", {
        "establishment": theirs["establishment"].pk, "guest_name": "X", "channel": "email",
        "demand": "refund", "received_at": "2026-05-02T19:40", "message_text": "Refund or else.",
    })
    assert response.status_code in (400, 404)
    assert ThreatReport.objects.count() == before


def test_the_owner_opens_their_own_evidence(theirs):
    owner = theirs["establishment"].memberships.get().user
    response = _signed_in(owner).get(f"/portal/evidence/{theirs['evidence'].pk}/")
    assert response.status_code == 200


# --- Admin: anonymous, staff, moderators ---------------------------------------------


ADMIN_PAGES = [
    "/admin/", "/admin/cases/case/", "/admin/reviews/review/", "/admin/reports/threatreport/",
    "/admin/partners/partner/", "/admin/partners/webhookdelivery/", "/admin/auth/user/",
]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_the_admin_sign_in(page):
    response = Client().get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("page", ADMIN_PAGES[1:])
def test_staff_without_permissions_see_no_admin_page(page):
    assert _signed_in(UserFactory()).get(page).status_code == 403


@pytest.mark.parametrize("page,status", [
    ("/admin/cases/case/", 200), ("/admin/reviews/review/", 200),
    # Moderators read threat reports and their evidence to decide extortion cases.
    ("/admin/reports/threatreport/", 200), ("/admin/partners/partner/", 403),
    ("/admin/partners/webhookdelivery/", 403), ("/admin/auth/user/", 403),
])
def test_a_moderator_sees_the_moderation_pages_only(page, status):
    assert _signed_in(moderator()).get(page).status_code == status


@pytest.mark.parametrize("page,status", [
    ("/admin/partners/partner/", 200), ("/admin/partners/webhookdelivery/", 200),
    ("/admin/auth/user/", 403),
])
def test_a_senior_moderator_also_sees_partners_and_webhooks(page, status):
    assert _signed_in(senior_moderator()).get(page).status_code == status


def _evidence_url(theirs) -> str:
    return f"/admin/reports/threatreport/evidence/{theirs['evidence'].pk}/"


def test_anonymous_visitors_cannot_download_evidence_from_the_admin(theirs):
    response = Client().get(_evidence_url(theirs))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_evidence_permission_cannot_download_it(theirs):
    assert _signed_in(UserFactory()).get(_evidence_url(theirs)).status_code in (403, 404)


def test_a_moderator_with_the_evidence_permission_downloads_it_from_the_admin(theirs):
    user = moderator()
    user.user_permissions.add(Permission.objects.get(codename="view_threatevidence"))
    response = _signed_in(user).get(_evidence_url(theirs))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()
