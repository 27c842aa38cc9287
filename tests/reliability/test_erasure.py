"""`manage.py erase_reviewer`: a reviewer's personal data goes, cases stay whole."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.reviews.erasure import TOMBSTONE, reviewer_erase
from apps.reviews.models import Review, Reviewer
from tests.factories import ReviewerFactory, ReviewFactory
from tests.factories_cases import ring_case

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
