"""Owners hear, in their language, when a review is held because of their report and
when a moderator decides it; the portal lists what they were told."""

from __future__ import annotations

import pytest

from apps.reports.models import Notification, ReportReviewLink
from apps.reports.services import report_link_mark_held, reports_settle
from tests.factories import ReviewFactory
from tests.factories_cases import finding_for
from tests.factories_reports import OwnerFactory, OwnerMembershipFactory, ThreatReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_fr():
    return OwnerMembershipFactory(language="fr", user__email="claire@example.fr",
                                  establishment__name="Hôtel Bellecour")


@pytest.fixture
def linked(owner_fr):
    report = ThreatReportFactory(establishment=owner_fr.establishment)
    review = ReviewFactory(partner=report.partner, establishment=report.establishment,
                           rating=1, status="held")
    ReportReviewLink.objects.create(report=report, review=review, methods="email", strength=0.9)
    return report, review


def hold(report, review, capture):
    with capture(execute=True):
        report_link_mark_held(report_id=report.id, review_id=review.id)


def settle(report, decision, capture):
    from apps.cases.models import Case
    from apps.cases.services import case_upsert

    case, _ = case_upsert(finding=finding_for(list(report.reviews.all()),
                                              kind=Case.Kind.EXTORTION))
    report.cases.add(case)
    with capture(execute=True):
        reports_settle(case=case, decision=decision)


def test_a_held_review_notifies_the_owner_in_their_language(
        linked, owner_fr, celery_eager, mailoutbox, django_capture_on_commit_callbacks):
    report, review = linked

    hold(report, review, django_capture_on_commit_callbacks)

    notification = Notification.objects.get()
    assert notification.user == owner_fr.user
    assert notification.kind == "review_held"
    assert mailoutbox[0].to == ["claire@example.fr"]
    assert "Un avis à 1 étoile" in mailoutbox[0].body
    assert f"/portal/reports/{report.id}/" in mailoutbox[0].body


def test_a_review_held_twice_notifies_once(linked, celery_eager, mailoutbox,
                                           django_capture_on_commit_callbacks):
    report, review = linked

    hold(report, review, django_capture_on_commit_callbacks)
    hold(report, review, django_capture_on_commit_callbacks)

    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_confirmed_report_tells_the_owner_the_reviews_were_removed(
        linked, celery_eager, mailoutbox, django_capture_on_commit_callbacks):
    report, _ = linked

    settle(report, "confirmed", django_capture_on_commit_callbacks)

    assert Notification.objects.get().values["decision"] == "confirmed"
    assert "confirmé" in mailoutbox[0].body


def test_a_dismissed_report_tells_the_owner_they_may_appeal(
        linked, celery_eager, mailoutbox, django_capture_on_commit_callbacks):
    report, _ = linked

    settle(report, "dismissed", django_capture_on_commit_callbacks)

    assert "faire appel" in mailoutbox[0].body


def test_an_english_owner_gets_english(linked, owner_fr, celery_eager, mailoutbox,
                                       django_capture_on_commit_callbacks):
    owner_fr.language = "en"
    owner_fr.save()
    report, review = linked

    hold(report, review, django_capture_on_commit_callbacks)

    assert "A 1-star review of Hôtel Bellecour" in mailoutbox[0].body


def test_the_portal_user_who_filed_it_is_told_even_without_a_membership(
        linked, django_capture_on_commit_callbacks):
    report, review = linked
    filer = OwnerFactory()
    report.reporter = filer
    report.save()

    hold(report, review, django_capture_on_commit_callbacks)

    assert Notification.objects.filter(user=filer).exists()


def test_the_portal_lists_notifications_and_marks_them_read(
        client, linked, owner_fr, django_capture_on_commit_callbacks):
    report, review = linked
    hold(report, review, django_capture_on_commit_callbacks)
    client.force_login(owner_fr.user)

    assert 'class="count-badge"' in client.get("/portal/").text
    page = client.get("/portal/notifications/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "Un avis à 1 étoile" in page.text
    assert Notification.objects.get().read_at is not None
    assert 'class="count-badge"' not in client.get("/portal/").text


def test_an_owner_chooses_the_language_of_their_emails(client, owner_fr):
    client.force_login(owner_fr.user)

    response = client.post("/portal/notifications/", {"language": "en"})

    assert response.status_code == 302
    owner_fr.refresh_from_db()
    assert owner_fr.language == "en"


def test_another_owners_notifications_are_not_listed(
        client, linked, django_capture_on_commit_callbacks):
    report, review = linked
    hold(report, review, django_capture_on_commit_callbacks)
    client.force_login(OwnerMembershipFactory().user)

    assert "Hôtel Bellecour" not in client.get("/portal/notifications/").text
