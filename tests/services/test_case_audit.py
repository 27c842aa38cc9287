"""The audit trail: every action recorded with who, what, when, before and after."""

import pytest
from django.core.exceptions import PermissionDenied

from apps.cases.models import CaseEvent
from apps.cases.services import case_assign, case_decide
from tests.factories_cases import moderator, ring_case

pytestmark = pytest.mark.django_db


def test_opening_a_case_is_recorded():
    case = ring_case()
    event = case.events.get()
    assert (event.action, event.actor) == ("opened", None)
    assert sorted(event.after["reviews"]) == sorted(case.reviews.values_list("id", flat=True))


def test_decision_is_recorded_with_actor_note_before_and_after():
    case = ring_case(members=2, establishments=1)
    user = moderator()
    case_decide(case=case, decision="confirmed", actor=user, note="Same device.")
    event = case.events.get(action="confirmed")
    ids = [str(i) for i in sorted(case.reviews.values_list("id", flat=True))]
    assert (event.actor, event.note) == (user, "Same device.")
    assert event.before == {"status": "open", "reviews": dict.fromkeys(ids, "held")}
    assert event.after["status"] == "confirmed"
    assert event.after["reviews"] == dict.fromkeys(ids, "removed")
    assert len(event.after["reviewers_flagged"]) == 2
    assert event.at is not None


def test_assignment_is_recorded():
    case = ring_case()
    user = moderator()
    assert case_assign(case=case, assignee=user, actor=user)
    event = case.events.get(action="assigned")
    assert (event.actor, event.before, event.after) == (
        user, {"assigned_to": None}, {"assigned_to": user.pk}
    )


def test_assigning_to_the_same_person_again_records_nothing():
    case = ring_case()
    user = moderator()
    case_assign(case=case, assignee=user, actor=user)
    assert not case_assign(case=case, assignee=user, actor=user)
    assert case.events.filter(action="assigned").count() == 1


def test_event_cannot_be_edited():
    event = ring_case().events.get()
    event.note = "rewritten history"
    with pytest.raises(PermissionDenied):
        event.save()


def test_event_cannot_be_deleted():
    event = ring_case().events.get()
    with pytest.raises(PermissionDenied):
        event.delete()
    assert CaseEvent.objects.filter(pk=event.pk).exists()
