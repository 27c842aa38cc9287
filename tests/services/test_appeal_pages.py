"""Appeals through the pages: an owner in the portal, a senior moderator in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.cases.models import Appeal
from apps.cases.services import case_decide, review_appeal_file
from tests.factories_cases import moderator, ring_case, senior_moderator
from tests.factories_reports import OwnerMembershipFactory, extortion_case_with_evidence

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dismissed_report():
    case, report = extortion_case_with_evidence(files=())
    owner = OwnerMembershipFactory(establishment=report.establishment).user
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Not convinced.")
    client = Client()
    client.force_login(owner)
    return client, report, case


def test_the_owner_sees_an_appeal_form_on_a_dismissed_report(dismissed_report):
    client, report, _case = dismissed_report

    page = client.get(f"/portal/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE="fr")

    assert 'id="appeal"' in page.text and "faire appel" in page.text.lower()


def test_the_owner_appeals_once(dismissed_report):
    client, report, case = dismissed_report

    first = client.post(f"/portal/reports/{report.pk}/appeal/", {"statement": "Voici l'e-mail."})
    second = client.post(f"/portal/reports/{report.pk}/appeal/", {"statement": "Encore."})

    assert first.status_code == 302
    assert second.status_code == 409
    assert Appeal.objects.get().case == case
    assert "Voici l&#x27;e-mail." in client.get(f"/portal/reports/{report.pk}/").text


def test_a_senior_moderator_overturns_from_the_case_page():
    decider = moderator()
    case = ring_case()
    case_decide(case=case, decision="confirmed", actor=decider, note="Ring.")
    review = case.reviews.first()
    appeal = review_appeal_file(review=review, statement="Real stay.", partner=review.partner)
    senior = Client()
    senior.force_login(senior_moderator())

    page = senior.get(f"/admin/cases/case/{case.pk}/change/")
    assert 'id="appeal-form"' in page.text and "Real stay." in page.text
    response = senior.post(f"/admin/cases/case/{case.pk}/appeal/",
                           {"appeal": appeal.pk, "outcome": "overturned", "note": "Verified."})

    assert response.status_code == 302
    appeal.refresh_from_db()
    review.refresh_from_db()
    assert appeal.status == "overturned"
    assert review.status == "published"


def test_the_moderator_who_decided_sees_no_appeal_form():
    decider = senior_moderator()
    case = ring_case()
    case_decide(case=case, decision="confirmed", actor=decider, note="Ring.")
    review = case.reviews.first()
    review_appeal_file(review=review, statement="Real stay.", partner=review.partner)
    client = Client()
    client.force_login(decider)

    page = client.get(f"/admin/cases/case/{case.pk}/change/")

    assert 'id="appeal-not-yours"' in page.text
    assert 'id="decision-form"' not in page.text


def test_per_review_choices_on_the_case_page_apply(client):
    case = ring_case(members=2, establishments=1)
    kept = case.reviews.order_by("id").first()
    client.force_login(moderator())

    client.post(f"/admin/cases/case/{case.pk}/decide/",
                {"decision": "confirmed", "note": "One is real.", f"review-{kept.pk}": "dismissed"})

    kept.refresh_from_db()
    assert kept.status == "published"
    assert case.reviews.filter(status="removed").count() == 1


def test_the_queue_marks_a_case_under_appeal(client):
    case = ring_case()
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    review = case.reviews.first()
    review_appeal_file(review=review, statement="Real stay.", partner=review.partner)
    client.force_login(senior_moderator())

    page = client.get("/admin/cases/case/")

    assert 'rg-status-appeal' in page.text
