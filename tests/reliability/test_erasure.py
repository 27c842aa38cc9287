"""`manage.py erase_reviewer`: a reviewer's personal data goes, cases stay whole."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.detection.models import TextBand
from apps.reports.models import Notification, ReportReviewLink, ThreatReport
from apps.reviews import pii
from apps.reviews.erasure import TOMBSTONE, reviewer_erase
from apps.reviews.models import Review, Reviewer
from tests.factories import ReviewerFactory, ReviewFactory
from tests.factories_cases import ring_case
from tests.factories_reports import OwnerFactory, ThreatReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def review():
    reviewer = ReviewerFactory(display_name="Marie L.", email_hash="e" * 64)
    return ReviewFactory(partner=reviewer.partner, reviewer=reviewer, title="Noisy", text="Room on the street side.",
                         ip_hash="i" * 64, ip24_hash="j" * 64, device_hash="d" * 64,
                         booking_ref_hash="b" * 64)


def _erase(review: Review):
    return reviewer_erase(partner=review.partner, external_id=review.reviewer.external_id)


def test_erasure_clears_the_reviewers_name_and_email_hash(review):
    _erase(review)
    reviewer = Reviewer.objects.get(pk=review.reviewer_id)
    assert (reviewer.display_name, reviewer.email_hash, reviewer.account_created_at) == (
        "", "", None)


def test_erasure_replaces_review_text_by_a_tombstone(review):
    _erase(review)
    review.refresh_from_db()
    assert (review.title, review.text) == ("", TOMBSTONE)


def test_erasure_clears_every_identifier_hash_of_the_reviews(review):
    _erase(review)
    review.refresh_from_db()
    assert {review.ip_hash, review.ip24_hash, review.device_hash, review.booking_ref_hash} == {""}


def test_erasure_keeps_rating_status_and_risk(review):
    before = (review.rating, review.status, review.risk_score, review.created_at)
    _erase(review)
    review.refresh_from_db()
    assert (review.rating, review.status, review.risk_score, review.created_at) == before


def test_erasure_keeps_the_case_and_all_its_members():
    case = ring_case(members=3, establishments=2)
    members = (set(case.reviews.values_list("id", flat=True)),
               set(case.reviewers.values_list("id", flat=True)))
    member = case.reviewers.first()
    reviewer_erase(partner=member.partner, external_id=member.external_id)
    assert (set(case.reviews.values_list("id", flat=True)),
            set(case.reviewers.values_list("id", flat=True))) == members


def test_erasure_leaves_other_reviewers_alone(review):
    other = ReviewFactory(partner=review.partner, text="Lovely breakfast.")
    _erase(review)
    other.refresh_from_db()
    assert other.text == "Lovely breakfast."


def test_erasing_twice_changes_nothing_more(review):
    _erase(review)
    assert _erase(review).reviews == 1
    review.refresh_from_db()
    assert review.text == TOMBSTONE


def test_the_api_shows_the_tombstone(api, partner_api):
    review = ReviewFactory(partner=partner_api.partner, text="Secret words.")
    reviewer_erase(partner=review.partner, external_id=review.reviewer.external_id)
    assert Review.objects.get(pk=review.pk).text == TOMBSTONE
    assert "Secret words." not in api.get(f"/api/v1/reviews/{review.external_id}/").content.decode()


def test_the_command_erases_and_says_how_many_reviews(review):
    out = StringIO()
    call_command("erase_reviewer", "--partner", review.partner.name,
                 "--external-id", review.reviewer.external_id, stdout=out)
    assert "1 reviews tombstoned" in out.getvalue()
    assert Reviewer.objects.get(pk=review.reviewer_id).display_name == ""


def test_the_command_refuses_an_unknown_reviewer(review):
    with pytest.raises(CommandError, match="No such reviewer"):
        call_command("erase_reviewer", "--partner", review.partner.name, "--external-id", "nobody")


def test_the_command_refuses_an_unknown_partner():
    with pytest.raises(CommandError, match="No partner"):
        call_command("erase_reviewer", "--partner", "nobody", "--external-id", "x")


# --- threat reports naming the reviewer, and the text index (the command) ----------


def _erase_command(review: Review) -> str:
    out = StringIO()
    call_command("erase_reviewer", "--partner", review.partner.name,
                 "--external-id", review.reviewer.external_id, stdout=out)
    return out.getvalue()


@pytest.fixture
def linked_report(review):
    report = ThreatReportFactory(
        establishment=review.establishment, guest_name="Marie Lefort",
        guest_email="marie@example.org", guest_booking_ref="BK-55120", guest_handle="marie75",
        message_text="From Marie Lefort: refund me or I post a 1-star review.",
        status=ThreatReport.Status.LINKED)
    ReportReviewLink.objects.create(report=report, review=review, methods="email", strength=0.9,
                                    held=True)
    return report


def test_the_command_clears_the_guest_name_and_identifiers_of_a_linked_report(review,
                                                                               linked_report):
    _erase_command(review)
    linked_report.refresh_from_db()
    assert {linked_report.guest_name, linked_report.guest_name_key,
            linked_report.guest_email_hash, linked_report.guest_booking_ref_hash,
            linked_report.guest_handle_hash} == {""}


def test_the_command_removes_the_guest_name_from_the_reported_message(review, linked_report):
    _erase_command(review)
    linked_report.refresh_from_db()
    assert linked_report.message_text == (
        "From [name removed]: refund me or I post a 1-star review.")


def test_the_command_keeps_the_reports_links_status_and_cases(review, linked_report):
    case = ring_case(members=2, establishments=1)
    linked_report.cases.add(case)
    _erase_command(review)
    linked_report.refresh_from_db()
    assert (list(linked_report.links.values_list("review_id", flat=True)),
            linked_report.status, list(linked_report.cases.all())) == (
        [review.pk], ThreatReport.Status.LINKED, [case])


def test_the_command_clears_a_report_of_the_same_partner_naming_the_reviewers_booking(review):
    Review.objects.filter(pk=review.pk).update(booking_ref_hash=pii.booking_ref_hash("BK-1"))
    report = ThreatReportFactory(establishment=review.establishment, guest_name="M. L.",
                                 guest_booking_ref="BK-1")
    _erase_command(review)
    report.refresh_from_db()
    assert (report.guest_name, report.guest_booking_ref_hash) == ("", "")


def test_the_command_leaves_a_report_that_only_resembles_the_name_alone(review):
    report = ThreatReportFactory(establishment=review.establishment, guest_name="Marie L.")
    _erase_command(review)
    report.refresh_from_db()
    assert report.guest_name == "Marie L."


def test_the_command_leaves_another_partners_report_with_the_same_email_alone(review):
    Reviewer.objects.filter(pk=review.reviewer_id).update(
        email_hash=pii.email_hash("marie@example.org"))
    report = ThreatReportFactory(guest_name="Marie", guest_email="marie@example.org")
    _erase_command(review)
    report.refresh_from_db()
    assert report.guest_name == "Marie"


def test_the_command_clears_the_review_title_quoted_in_owner_notifications(review,
                                                                           linked_report):
    owner = OwnerFactory()
    note = Notification.objects.create(user=owner, kind=Notification.Kind.REVIEW_HELD,
                                       report=linked_report, review=review,
                                       values={"rating": 1, "title": "Noisy"}, dedupe_key="n1")
    _erase_command(review)
    note.refresh_from_db()
    assert note.values == {"rating": 1, "title": ""}


def test_the_command_deletes_the_reviews_rows_in_the_text_index(review):
    TextBand.objects.create(review_id=review.pk, reviewer_id=review.reviewer_id, key=1,
                            created_at=review.created_at)
    _erase_command(review)
    assert not TextBand.objects.filter(review_id=review.pk).exists()


def test_the_command_leaves_other_reviews_rows_in_the_text_index(review):
    other = ReviewFactory(partner=review.partner)
    TextBand.objects.create(review_id=other.pk, reviewer_id=other.reviewer_id, key=1,
                            created_at=other.created_at)
    _erase_command(review)
    assert TextBand.objects.filter(review_id=other.pk).count() == 1


def test_the_command_says_what_it_erased(review, linked_report):
    TextBand.objects.create(review_id=review.pk, reviewer_id=review.reviewer_id, key=1,
                            created_at=review.created_at)
    assert "1 threat reports cleared of them, 1 text index rows deleted" in _erase_command(review)


def test_erasing_twice_with_the_command_is_harmless(review, linked_report):
    _erase_command(review)
    _erase_command(review)
    linked_report.refresh_from_db()
    assert linked_report.guest_name == ""
