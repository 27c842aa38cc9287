"""Appeals: once per subject, decided by a senior moderator who did not decide,
applied to the reviews, audited and sent back; decisions per review within a case."""

from __future__ import annotations

import pytest

from apps.cases.models import Appeal, Case, CaseEvent
from apps.cases.services import (
    appeal_decide,
    appeal_file,
    case_decide,
    review_appeal_file,
)
from apps.core.exceptions import ApplicationError
from apps.partners.models import WebhookDelivery
from apps.reports.models import Notification
from apps.reviews.models import Review
from tests.factories import PartnerFactory
from tests.factories_cases import moderator, ring_case, senior_moderator
from tests.factories_reports import OwnerMembershipFactory, extortion_case_with_evidence

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def decider():
    return senior_moderator(username="first-decider")


@pytest.fixture
def removed(decider):
    """A confirmed ring case (its reviews removed) and one of its reviews."""
    case = ring_case(partner=PartnerFactory(webhook_url="http://127.0.0.1:9/hook"))
    case_decide(case=case, decision="confirmed", actor=decider, note="Same device, same text.")
    return case, case.reviews.order_by("id").first()


def appeal_review(review, statement="I really stayed there."):
    return review_appeal_file(review=review, statement=statement, partner=review.partner)


def test_an_appeal_reopens_the_case_with_an_audit_entry(removed):
    case, review = removed

    appeal = appeal_review(review)

    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
    assert appeal.previous_status == Case.Status.CONFIRMED
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.action == "appealed"
    assert event.after["appeal"] == appeal.pk


def test_a_review_is_appealed_only_once(removed):
    _case, review = removed
    appeal_review(review)

    with pytest.raises(ApplicationError) as exc:
        appeal_review(review)

    assert exc.value.code == "appeal_exists"
    assert exc.value.status_code == 409


def test_a_second_author_of_the_same_case_may_appeal_too(removed):
    case, review = removed
    appeal_review(review)
    other = case.reviews.exclude(reviewer=review.reviewer).first()

    assert appeal_review(other).case_id == case.pk


def test_a_review_that_was_not_removed_cannot_be_appealed():
    case = ring_case()

    with pytest.raises(ApplicationError) as exc:
        appeal_review(case.reviews.first())

    assert exc.value.code == "appeal_not_allowed"


def test_an_empty_statement_is_refused(removed):
    with pytest.raises(ApplicationError) as exc:
        appeal_review(removed[1], statement="   ")

    assert "statement" in exc.value.fields


def test_overturning_publishes_the_review_again_and_restores_the_decision(removed):
    case, review = removed
    appeal = appeal_review(review)

    appeal_decide(appeal=appeal, actor=senior_moderator(), outcome="overturned",
                  note="Verified stay.")

    review.refresh_from_db()
    case.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert case.status == Case.Status.CONFIRMED
    assert case.reviews.exclude(pk=review.pk).filter(status="removed").count() == 5


def test_the_outcome_goes_back_to_the_partner_as_case_decided(removed):
    _case, review = removed
    appeal = appeal_review(review)

    appeal_decide(appeal=appeal, actor=senior_moderator(), outcome="upheld", note="No proof.")

    delivery = WebhookDelivery.objects.filter(event="case.decided").latest("id")
    assert delivery.payload["data"]["appeal"] == {
        "id": appeal.pk, "kind": "review_removed", "outcome": "upheld",
        "review": review.external_id}


def test_the_moderator_who_decided_cannot_decide_the_appeal(removed, decider):
    appeal = appeal_review(removed[1])

    with pytest.raises(ApplicationError) as exc:
        appeal_decide(appeal=appeal, actor=decider, outcome="upheld", note="Still right.")

    assert exc.value.code == "appeal_not_yours"


def test_a_moderator_who_is_not_senior_cannot_decide_an_appeal(removed):
    appeal = appeal_review(removed[1])

    with pytest.raises(ApplicationError) as exc:
        appeal_decide(appeal=appeal, actor=moderator(), outcome="upheld", note="Still right.")

    assert exc.value.status_code == 403


def test_a_case_under_appeal_is_not_decided_the_ordinary_way(removed):
    case, review = removed
    appeal_review(review)

    with pytest.raises(ApplicationError) as exc:
        case_decide(case=case, decision="dismissed", actor=senior_moderator(), note="Oops.")

    assert exc.value.code == "case_under_appeal"


def test_an_appeal_is_decided_once(removed):
    appeal = appeal_review(removed[1])
    appeal_decide(appeal=appeal, actor=senior_moderator(), outcome="upheld", note="No.")

    with pytest.raises(ApplicationError) as exc:
        appeal_decide(appeal=appeal, actor=senior_moderator(), outcome="overturned", note="Yes.")

    assert exc.value.code == "appeal_already_decided"


def test_an_owner_appeal_overturned_confirms_the_report_and_tells_the_owner():
    from apps.reports.services import report_appeal_file

    case, report = extortion_case_with_evidence(files=())
    owner = OwnerMembershipFactory(establishment=report.establishment).user
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Not convinced.")
    report.refresh_from_db()
    appeal = report_appeal_file(report=report, user=owner, statement="Here is the e-mail.")

    appeal_decide(appeal=appeal, actor=senior_moderator(), outcome="overturned",
                  note="The e-mail is clear.")

    report.refresh_from_db()
    case.refresh_from_db()
    assert report.status == "confirmed"
    assert case.status == Case.Status.CONFIRMED
    assert case.reviews.get().status == Review.Status.REMOVED
    assert Notification.objects.filter(user=owner, kind="appeal_decided").exists()
    assert case.labels.latest("id").label == "confirmed"


def test_an_undismissed_report_cannot_be_appealed():
    from apps.reports.services import report_appeal_file

    _case, report = extortion_case_with_evidence(files=())

    with pytest.raises(ApplicationError) as exc:
        report_appeal_file(report=report, user=None, statement="Please.")

    assert exc.value.code == "appeal_not_allowed"


def test_review_decisions_confirm_some_reviews_and_keep_others():
    case = ring_case(members=2, establishments=2)
    kept, *removed_ones = list(case.reviews.order_by("id"))

    outcome = case_decide(case=case, decision="confirmed", actor=moderator(), note="Mixed.",
                          review_decisions={kept.pk: "dismissed"})

    kept.refresh_from_db()
    assert kept.status == Review.Status.PUBLISHED
    assert all(Review.objects.get(pk=r.pk).status == "removed" for r in removed_ones)
    assert outcome.event.after["review_decisions"][str(kept.pk)] == "dismissed"


def test_only_the_reviewers_of_confirmed_reviews_are_flagged():
    case = ring_case(members=2, establishments=1)
    first, second = list(case.reviews.order_by("id"))

    outcome = case_decide(case=case, decision="confirmed", actor=moderator(), note="One of two.",
                          review_decisions={first.pk: "dismissed"})

    assert list(outcome.reviewers_flagged) == [second.reviewer_id]


def test_a_dismissed_case_cannot_remove_a_review():
    case = ring_case()

    with pytest.raises(ApplicationError) as exc:
        case_decide(case=case, decision="dismissed", actor=moderator(), note="No.",
                    review_decisions={case.reviews.first().pk: "confirmed"})

    assert exc.value.code == "invalid_decision"


def test_appeal_file_refuses_a_kind_that_does_not_match_the_decision(removed):
    case, _review = removed

    with pytest.raises(ApplicationError) as exc:
        appeal_file(case=case, kind=Appeal.Kind.REPORT_DISMISSED, subject="report:999",
                    statement="Wrong kind.")

    assert exc.value.code == "appeal_not_allowed"
