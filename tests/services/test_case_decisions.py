"""case_decide: what confirming and dismissing do to reviews, reviewers and the case."""

import pytest

from apps.cases.models import Case, DecisionLabel
from apps.cases.services import case_decide, case_upsert, cases_decide_bulk
from apps.cases.signals import case_decided
from apps.core.exceptions import ApplicationError
from apps.reviews.models import Review, Reviewer
from tests.factories import ReviewFactory
from tests.factories_cases import finding_for, moderator, ring_case, ring_reviews

pytestmark = pytest.mark.django_db


def _statuses(case: Case) -> set[str]:
    return set(case.reviews.values_list("status", flat=True))


def test_confirm_removes_held_reviews():
    case = ring_case(status=Review.Status.HELD)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Same device, same day.")
    assert _statuses(case) == {Review.Status.REMOVED}


def test_confirm_removes_published_reviews():
    case = ring_case(status=Review.Status.PUBLISHED)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    assert _statuses(case) == {Review.Status.REMOVED}


def test_confirm_flags_every_reviewer():
    case = ring_case(members=3)
    outcome = case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    assert len(outcome.reviewers_flagged) == 3
    assert set(case.reviewers.values_list("flagged", flat=True)) == {True}


def test_confirm_sets_status_and_decider():
    case = ring_case()
    user = moderator()
    case_decide(case=case, decision="confirmed", actor=user, note="Ring.")
    case.refresh_from_db()
    assert (case.status, case.decided_by, case.decision_note) == ("confirmed", user, "Ring.")
    assert case.decided_at is not None


def test_dismiss_publishes_held_reviews():
    case = ring_case(status=Review.Status.HELD)
    case_decide(case=case, decision="dismissed", actor=moderator(), note="A real family trip.")
    assert _statuses(case) == {Review.Status.PUBLISHED}


def test_dismiss_leaves_removed_reviews_removed():
    reviews = ring_reviews()
    removed = ReviewFactory(partner=reviews[0].partner, status=Review.Status.REMOVED)
    case, _ = case_upsert(finding=finding_for([*reviews, removed]))
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Genuine.")
    removed.refresh_from_db()
    assert removed.status == Review.Status.REMOVED


def test_dismiss_flags_nobody():
    case = ring_case()
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Genuine.")
    assert not Reviewer.objects.filter(flagged=True).exists()


def test_decision_needs_a_note():
    case = ring_case()
    with pytest.raises(ApplicationError) as error:
        case_decide(case=case, decision="confirmed", actor=moderator(), note="   ")
    assert error.value.code == "note_required"
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_unknown_decision_is_refused():
    with pytest.raises(ApplicationError) as error:
        case_decide(case=ring_case(), decision="maybe", actor=moderator(), note="Hmm.")
    assert error.value.code == "invalid_decision"


def test_decided_case_cannot_be_decided_again():
    case = ring_case()
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Genuine.")
    with pytest.raises(ApplicationError) as error:
        case_decide(case=case, decision="confirmed", actor=moderator(), note="Changed my mind.")
    assert (error.value.code, error.value.status_code) == ("case_already_decided", 409)
    assert _statuses(case) == {Review.Status.PUBLISHED}


def test_decision_stores_a_labelled_example():
    case = ring_case(members=3, establishments=2)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    label = DecisionLabel.objects.get(case=case)
    assert (label.kind, label.label) == (Case.Kind.SOCK_PUPPET_RING, "confirmed")
    assert label.features["n_reviews"] == 6
    assert label.features["reasons"] == {"shared_device": 0.8}
    assert label.features["review_status"] == {"held": 6}


def test_decision_sends_the_case_decided_signal():
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs["case"].pk, kwargs["decision"], kwargs["note"]))

    case_decided.connect(receiver)
    try:
        case = ring_case()
        user = moderator()
        case_decide(case=case, decision="dismissed", actor=user, note="Genuine.")
    finally:
        case_decided.disconnect(receiver)
    assert received == [(Case, case.pk, "dismissed", "Genuine.")]


def test_failing_signal_receiver_rolls_the_decision_back():
    def receiver(sender, **kwargs):
        raise RuntimeError("reports app down")

    case_decided.connect(receiver)
    case = ring_case()
    try:
        with pytest.raises(RuntimeError):
            case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    finally:
        case_decided.disconnect(receiver)
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
    assert _statuses(case) == {Review.Status.HELD}


def test_bulk_decision_applies_to_every_open_case_and_skips_decided_ones():
    cases = [ring_case(), ring_case(), ring_case()]
    case_decide(case=cases[0], decision="dismissed", actor=moderator(), note="Genuine.")
    result = cases_decide_bulk(cases=cases, decision="confirmed", actor=moderator(),
                               note="Same wave.")
    assert [o.case.pk for o in result.decided] == [cases[1].pk, cases[2].pk]
    assert result.skipped == (cases[0].pk,)
    assert set(Case.objects.values_list("status", flat=True)) == {"dismissed", "confirmed"}


def test_bulk_decision_needs_a_note_before_touching_anything():
    cases = [ring_case(), ring_case()]
    with pytest.raises(ApplicationError):
        cases_decide_bulk(cases=cases, decision="confirmed", actor=moderator(), note="")
    assert set(Case.objects.values_list("status", flat=True)) == {"open"}
