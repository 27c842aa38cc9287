"""case_upsert: one case per finding, grown findings extend it, decisions stick."""

import pytest

from apps.cases.models import Case, CaseEvent
from apps.cases.services import UpsertOutcome, case_decide, case_upsert, case_upsert_outcome
from apps.reviews.models import Review
from tests.factories import ReviewerFactory, ReviewFactory
from tests.factories_cases import finding_for, moderator, ring_reviews

pytestmark = pytest.mark.django_db


def _grow(reviews: list[Review]) -> list[Review]:
    """The same ring with one more member reviewing its first establishment."""
    first = reviews[0]
    newcomer = ReviewerFactory(partner=first.partner)
    return [*reviews, ReviewFactory(partner=first.partner, establishment=first.establishment,
                                    reviewer=newcomer, rating=5, status=Review.Status.HELD)]


def test_same_finding_twice_opens_one_case():
    finding = finding_for(ring_reviews())
    first, opened = case_upsert(finding=finding)
    second, opened_again = case_upsert(finding=finding)
    assert (opened, opened_again) == (True, False)
    assert first.pk == second.pk
    assert Case.objects.count() == 1


def test_identical_rerun_records_no_event():
    finding = finding_for(ring_reviews())
    case, _ = case_upsert(finding=finding)
    assert case_upsert_outcome(finding=finding).outcome == UpsertOutcome.UNCHANGED
    assert list(case.events.values_list("action", flat=True)) == ["opened"]


def test_grown_ring_extends_its_case():
    reviews = ring_reviews(members=3)
    case, _ = case_upsert(finding=finding_for(reviews))
    grown = _grow(reviews)
    result = case_upsert_outcome(finding=finding_for(grown))
    assert result.outcome == UpsertOutcome.EXTENDED
    assert result.case.pk == case.pk
    assert Case.objects.count() == 1
    assert case.reviewers.count() == 4
    assert case.reviews.count() == len(grown)
    assert case.events.last().after["reviews_added"] == [grown[-1].id]


def test_grown_ring_rerun_after_extension_is_unchanged():
    reviews = ring_reviews()
    case_upsert(finding=finding_for(reviews))
    grown = _grow(reviews)
    case_upsert(finding=finding_for(grown))
    assert case_upsert_outcome(finding=finding_for(grown)).outcome == UpsertOutcome.UNCHANGED


def test_subset_of_a_ring_finds_its_case_without_change():
    reviews = ring_reviews(members=4)
    case, _ = case_upsert(finding=finding_for(reviews))
    partial = [r for r in reviews if r.reviewer_id != reviews[0].reviewer_id]
    result = case_upsert_outcome(finding=finding_for(partial))
    assert (result.case.pk, result.outcome) == (case.pk, UpsertOutcome.UNCHANGED)


def test_other_kind_with_same_members_is_another_case():
    reviews = ring_reviews()
    ring, _ = case_upsert(finding=finding_for(reviews))
    bombing, opened = case_upsert(finding=finding_for(reviews, kind=Case.Kind.REVIEW_BOMBING))
    assert opened and bombing.pk != ring.pk


def test_dismissed_case_is_not_reopened_by_the_same_evidence():
    reviews = ring_reviews()
    case, _ = case_upsert(finding=finding_for(reviews))
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Family trip, genuine.")
    result = case_upsert_outcome(finding=finding_for(reviews, severity=0.99))
    case.refresh_from_db()
    assert result.outcome == UpsertOutcome.UNCHANGED
    assert case.status == Case.Status.DISMISSED


def test_dismissed_case_is_reopened_by_new_members():
    reviews = ring_reviews()
    case, _ = case_upsert(finding=finding_for(reviews))
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Looks genuine.")
    result = case_upsert_outcome(finding=finding_for(_grow(reviews)))
    case.refresh_from_db()
    assert result.outcome == UpsertOutcome.REOPENED
    assert (case.status, case.decided_at, case.decision_note) == (Case.Status.OPEN, None, "")
    assert Case.objects.count() == 1


def test_reopening_is_audited_with_the_previous_decision():
    reviews = ring_reviews()
    case, _ = case_upsert(finding=finding_for(reviews))
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Looks genuine.")
    case_upsert(finding=finding_for(_grow(reviews)))
    event = CaseEvent.objects.filter(case=case).last()
    assert event.action == "reopened"
    assert event.before["status"] == "dismissed"
    assert event.before["decision_note"] == "Looks genuine."
    assert len(event.after["members_added"]) == 1
