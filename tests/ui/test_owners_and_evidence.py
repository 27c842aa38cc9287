"""An owner invitation followed to the dashboard, and a moderator viewing evidence, in
headless Chromium, in English and French. Screenshots go to bench/screenshots/."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from apps.partners.services import api_key_issue
from apps.reports.models import EvidenceAccess
from tests.factories import EstablishmentFactory, PartnerFactory
from tests.factories_cases import moderator
from tests.factories_reports import extortion_case_with_evidence
from tests.ui.browsing import new_page, sign_in_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def invite(*, language: str) -> str:
    """A partner invites an owner through the API; returns the path of the e-mailed link."""
    partner = PartnerFactory(name="Séjours & Tables")
    EstablishmentFactory(partner=partner, external_id="htl-1", name="Hôtel Bellecour")
    EstablishmentFactory(partner=partner, external_id="rst-1", name="Le Bouchon des Terreaux",
                         kind="restaurant")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_issue(partner=partner)}")
    response = client.post("/api/v1/owner-invitations/", {
        "email": "claire.martin@example.fr", "establishments": ["htl-1", "rst-1"],
        "language": language}, format="json")
    assert response.status_code == 201
    return re.search(r"/portal/invitation/\S+/", mail.outbox[-1].body).group(0)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_invited_owner_sets_a_password_and_lands_on_the_dashboard(
        browser, live_server, eager_tasks, screenshot_dir, language):
    path = invite(language=language)
    context, page = new_page(browser, language)

    page.goto(f"{live_server.url}{path}")
    assert "Hôtel Bellecour" in page.inner_text(".login-pitch")
    page.fill("#id_first_name", "Claire")
    page.fill("#id_last_name", "Martin")
    page.screenshot(path=str(screenshot_dir / f"portal-invitation-{language}.png"),
                    full_page=True)
    page.fill("#id_password1", "a long and unusual passphrase")
    page.fill("#id_password2", "a long and unusual passphrase")
    page.click(".login-card button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal/$"))

    assert page.locator(".est-card").count() == 2
    greeting = "Bonjour, Claire Martin" if language == "fr" else "Hello, Claire Martin"
    assert greeting in page.inner_text("h1")
    page.screenshot(path=str(screenshot_dir / f"portal-invited-dashboard-{language}.png"),
                    full_page=True)
    context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_moderator_sees_the_evidence_beside_the_threat(
        browser, live_server, eager_tasks, screenshot_dir, language):
    case, _report = extortion_case_with_evidence()
    user = moderator(username=f"camille-{language}", first_name="Camille")
    context, page = new_page(browser, language, width=1400)
    sign_in_admin(page, live_server, user)

    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    image = page.locator(".rg-evidence-image img")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())
    assert page.locator(".rg-evidence-download a[download]").inner_text() == "menace.eml"
    page.click(".rg-evidence-pdf summary")
    page.locator(".rg-evidence-pdf iframe").wait_for()
    page.reload()
    assert "Camille" in page.inner_text("#evidence-log")
    page.locator("#threats").screenshot(
        path=str(screenshot_dir / f"admin-extortion-evidence-{language}.png"))
    assert EvidenceAccess.objects.filter(user=user, case=case).count() >= 2
    context.close()
