"""case_upsert: one case per finding, grown findings extend it, decisions stick."""

from dataclasses import replace

import pytest

from apps.cases.models import Case, CaseEvent
from apps.cases.services import (
    UpsertOutcome,
    _keys_in_other_open_cases,
    case_decide,
    case_upsert,
    case_upsert_many,
    case_upsert_outcome,
    cases_merge,
)
from apps.partners.models import WebhookDelivery
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


def _single(review: Review) -> object:
    return finding_for([review], kind=Case.Kind.ANOMALOUS_REVIEWER)


def test_many_new_findings_open_one_case_each_as_one_by_one_would():
    reviews = [ReviewFactory(status=Review.Status.HELD,
                             partner__webhook_url="https://partner.example/hook")
               for _ in range(3)]
    results = case_upsert_many(findings=[_single(r) for r in reviews])
    assert [r.outcome for r in results] == [UpsertOutcome.OPENED] * 3
    for review, result in zip(reviews, results, strict=True):
        case = result.case
        assert list(case.reviews.values_list("id", flat=True)) == [review.id]
        assert list(case.reviewers.values_list("id", flat=True)) == [review.reviewer_id]
        assert list(case.partners.values_list("id", flat=True)) == [review.partner_id]
        assert list(case.member_keys.values_list("key", flat=True)) == [
            f"reviewer:{review.reviewer_id}"]
        assert list(case.events.values_list("action", flat=True)) == ["opened"]
    assert WebhookDelivery.objects.filter(event="case.opened").count() == 3


def test_many_extends_the_case_a_finding_continues():
    first = ReviewFactory(status=Review.Status.HELD)
    case, _ = case_upsert(finding=_single(first))
    again = ReviewFactory(status=Review.Status.HELD, partner=first.partner,
                          reviewer=first.reviewer)
    other = ReviewFactory(status=Review.Status.HELD)
    results = case_upsert_many(findings=[_single(again), _single(other)])
    assert sorted(r.outcome for r in results) == [UpsertOutcome.EXTENDED, UpsertOutcome.OPENED]
    assert set(case.reviews.values_list("id", flat=True)) == {first.id, again.id}
    assert Case.objects.count() == 2


def test_many_joins_a_member_to_its_open_incident():
    reviews = ring_reviews(members=3)
    ring, _ = case_upsert(finding=finding_for(reviews))
    newer = ReviewFactory(status=Review.Status.HELD, partner=reviews[0].partner,
                          reviewer=reviews[0].reviewer)
    (result,) = case_upsert_many(findings=[_single(newer)])
    assert result.case.pk == ring.pk
    assert Case.objects.count() == 1


def test_many_extends_an_incident_once_for_all_its_members_held_in_a_batch():
    reviews = ring_reviews(members=3)
    ring, _ = case_upsert(finding=finding_for(reviews))
    newer = [ReviewFactory(status=Review.Status.HELD, partner=r.partner, reviewer=r.reviewer)
             for r in reviews[:3]]
    results = case_upsert_many(findings=[_single(r) for r in newer])
    assert {r.case.pk for r in results} == {ring.pk}
    assert len(results) == 3
    assert {r.id for r in newer} <= set(ring.reviews.values_list("id", flat=True))
    assert list(ring.events.values_list("action", flat=True)) == ["opened", "extended"]


def test_many_extends_each_open_reviewer_case_once_with_an_event():
    firsts = [ReviewFactory(status=Review.Status.HELD) for _ in range(2)]
    cases = [case_upsert(finding=_single(r))[0] for r in firsts]
    again = [ReviewFactory(status=Review.Status.HELD, partner=r.partner, reviewer=r.reviewer)
             for r in firsts for _ in range(2)]
    results = case_upsert_many(findings=[_single(r) for r in again])
    assert [r.outcome for r in results] == [UpsertOutcome.EXTENDED] * 4
    for case, first in zip(cases, firsts, strict=True):
        mine = {r.id for r in again if r.reviewer_id == first.reviewer_id}
        assert set(case.reviews.values_list("id", flat=True)) == {first.id} | mine
        assert list(case.events.values_list("action", flat=True)) == ["opened", "extended"]


def test_many_reopens_a_decided_case_a_finding_continues():
    first = ReviewFactory(status=Review.Status.HELD)
    case, _ = case_upsert(finding=_single(first))
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Genuine.")
    again = ReviewFactory(status=Review.Status.HELD, partner=first.partner,
                          reviewer=first.reviewer)
    (result,) = case_upsert_many(findings=[_single(again)])
    assert result.outcome == UpsertOutcome.REOPENED
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_many_tells_a_partner_new_to_an_open_case():
    first = ReviewFactory(status=Review.Status.HELD)
    case, _ = case_upsert(finding=_single(first))
    other = ReviewFactory(status=Review.Status.HELD,
                          partner__webhook_url="https://other.example/hook")
    joined = replace(_single(first), review_ids=(first.id, other.id),
                     partner_ids=(first.partner_id, other.partner_id))
    case_upsert_many(findings=[joined])
    assert WebhookDelivery.objects.filter(event="case.opened", partner=other.partner,
                                          dedupe_key=f"case.opened:{case.pk}:{other.partner_id}"
                                          ).exists()


def test_many_with_two_findings_of_one_reviewer_opens_one_case():
    first = ReviewFactory(status=Review.Status.HELD)
    second = ReviewFactory(status=Review.Status.HELD, partner=first.partner,
                           reviewer=first.reviewer)
    case_upsert_many(findings=[_single(first), _single(second)])
    case = Case.objects.get()
    assert set(case.reviews.values_list("id", flat=True)) == {first.id, second.id}


def test_many_opens_the_rest_together_when_another_worker_opened_one_first(monkeypatch):
    import apps.cases.services as services

    reviews = [ReviewFactory(status=Review.Status.HELD) for _ in range(3)]
    again = ReviewFactory(status=Review.Status.HELD, partner=reviews[0].partner,
                          reviewer=reviews[0].reviewer)
    real_sort, real_open_many = services._known_and_fresh, services._open_many
    opened_together = []

    def another_worker_commits_after_our_check(findings):
        result = real_sort(findings)
        if not opened_together:
            case_upsert(finding=_single(reviews[0]))
        return result

    def open_many(fresh):
        opened_together.append(len(fresh))
        return real_open_many(fresh)

    monkeypatch.setattr(services, "_known_and_fresh", another_worker_commits_after_our_check)
    monkeypatch.setattr(services, "_open_many", open_many)
    results = case_upsert_many(findings=[_single(again), *[_single(r) for r in reviews[1:]]])

    assert opened_together == [3, 2]
    assert sorted(r.outcome for r in results) == [
        UpsertOutcome.EXTENDED, UpsertOutcome.OPENED, UpsertOutcome.OPENED]
    assert Case.objects.count() == 3


def test_member_keys_of_other_open_cases_of_the_kinds_are_found():
    reviews = [ReviewFactory(status=Review.Status.HELD) for _ in range(3)]
    mine, _other, decided = (case_upsert(finding=_single(r))[0] for r in reviews)
    case_decide(case=decided, decision="dismissed", actor=moderator(), note="Genuine.")
    keys = {f"reviewer:{r.reviewer_id}" for r in reviews}

    shared = _keys_in_other_open_cases(keys=keys, kinds=(Case.Kind.ANOMALOUS_REVIEWER,),
                                       besides={mine.pk})

    assert shared == {f"reviewer:{reviews[1].reviewer_id}"}


def test_member_keys_of_open_cases_of_other_kinds_are_not_found():
    review = ReviewFactory(status=Review.Status.HELD)
    case_upsert(finding=_single(review))

    shared = _keys_in_other_open_cases(keys={f"reviewer:{review.reviewer_id}"},
                                       kinds=(Case.Kind.EXTORTION,), besides=set())

    assert shared == set()


def test_merging_moves_every_link_of_the_open_cases_and_records_both_sides():
    incident, _ = case_upsert(finding=finding_for(ring_reviews(members=3)))
    singles = [ReviewFactory(status=Review.Status.HELD) for _ in range(3)]
    first, second, decided = (case_upsert(finding=_single(r))[0] for r in singles)
    case_decide(case=decided, decision="dismissed", actor=moderator(), note="Genuine.")
    Case.objects.filter(pk=second.pk).update(severity=0.99)

    merged = cases_merge(into=incident, cases=[first, second, decided, incident], note="Same ring.")

    assert merged == [first.pk, second.pk]
    incident.refresh_from_db()
    for review in singles[:2]:
        assert incident.reviews.filter(pk=review.pk).exists()
        assert incident.reviewers.filter(pk=review.reviewer_id).exists()
        assert incident.establishments.filter(pk=review.establishment_id).exists()
        assert incident.partners.filter(pk=review.partner_id).exists()
        assert incident.member_keys.filter(key=f"reviewer:{review.reviewer_id}").exists()
    assert not incident.reviews.filter(pk=singles[2].pk).exists()
    assert incident.severity == 0.99
    for case in (first, second):
        case.refresh_from_db()
        assert (case.status, case.merged_into_id) == (Case.Status.MERGED, incident.pk)
        assert case.events.filter(action="merged").count() == 1
    assert incident.events.filter(action="merged").count() == 2
    decided.refresh_from_db()
    assert decided.status == Case.Status.DISMISSED
