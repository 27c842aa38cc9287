"""Webhooks of a decision: who is told what, and never twice for one decision."""

import pytest

from apps.cases.services import case_decide, case_upsert
from apps.partners.models import WebhookDelivery
from apps.reviews.models import Review
from tests.factories import PartnerFactory
from tests.factories_cases import finding_for, moderator, ring_case, ring_reviews

pytestmark = pytest.mark.django_db


def _partner(n: int):
    return PartnerFactory(webhook_url=f"http://127.0.0.1:9/hook-{n}")


def _events(event: str) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(event=event).order_by("id"))


def test_case_decided_goes_to_every_partner_of_the_case():
    first, second = _partner(1), _partner(2)
    reviews = ring_reviews(partner=first) + ring_reviews(partner=second)
    case, _ = case_upsert(finding=finding_for(reviews))
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Cross-partner ring.")
    decided = _events("case.decided")
    assert {d.partner_id for d in decided} == {first.pk, second.pk}
    assert decided[0].payload["data"]["decision"] == "confirmed"
    assert decided[0].payload["data"]["id"] == case.pk


def test_each_moved_review_is_announced_to_its_partner():
    partner = _partner(1)
    case = ring_case(partner=partner, members=2, establishments=2)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    changed = _events("review.status_changed")
    assert len(changed) == 4
    data = changed[0].payload["data"]
    assert (data["previous_status"], data["status"], data["case"]) == ("held", "removed", case.pk)


def test_review_that_did_not_move_is_not_announced():
    partner = _partner(1)
    case = ring_case(partner=partner, status=Review.Status.PUBLISHED)
    case_decide(case=case, decision="dismissed", actor=moderator(), note="Genuine.")
    assert _events("review.status_changed") == []
    assert len(_events("case.decided")) == 1


def test_one_decision_is_never_sent_twice():
    partner = _partner(1)
    case = ring_case(partner=partner, members=2, establishments=1)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    before = WebhookDelivery.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - the 409 is tested elsewhere
        case_decide(case=case, decision="confirmed", actor=moderator(), note="Again.")
    assert WebhookDelivery.objects.count() == before
    assert len(_events("case.decided")) == 1
    assert len(_events("review.status_changed")) == 2


def test_dedupe_keys_name_the_decision():
    partner = _partner(1)
    case = ring_case(partner=partner, members=1, establishments=1)
    outcome = case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    keys = set(WebhookDelivery.objects.exclude(event="case.opened").values_list(
        "dedupe_key", flat=True))
    review_id = next(iter(outcome.reviews_moved))
    decided = f"case.decided:{case.pk}:{outcome.event.pk}:{partner.pk}"
    assert decided in keys
    (review_key,) = keys - {decided}
    assert review_key.startswith(f"review.status_changed:{review_id}:decision-")
