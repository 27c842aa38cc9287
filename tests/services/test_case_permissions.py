"""Who may do what in the moderator console; the audit log is writable by nobody."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.cases.models import Case, CaseEvent
from apps.reviews.models import Review
from tests.factories import PartnerFactory
from tests.factories_cases import UserFactory, moderator, ring_case, senior_moderator

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _superuser():
    return UserFactory(is_superuser=True)


def test_moderators_group_has_exactly_its_permissions():
    moderator()  # creates the groups if a transactional test flushed them
    codenames = set(Group.objects.get(name="Moderators").permissions.values_list(
        "codename", flat=True))
    assert codenames == {"view_case", "change_case", "decide_case", "view_caseevent",
                         "view_decisionlabel", "view_review", "view_reviewer",
                         "view_establishment", "view_threatreport", "view_threatevidence",
                         "view_reportreviewlink", "view_evidenceaccess",
                         "view_ownerinvitation", "add_ownerinvitation",
                         "view_ownermembership", "view_appeal"}


def test_seniors_also_decide_in_bulk_and_see_partners_and_webhooks():
    senior_moderator()
    codenames = set(Group.objects.get(name="Senior moderators").permissions.values_list(
        "codename", flat=True))
    assert {"bulk_decide_case", "view_partner", "view_webhookdelivery"} <= codenames


def test_no_group_may_delete_cases_or_touch_events():
    moderator()
    forbidden = Permission.objects.filter(
        codename__in=["delete_case", "add_caseevent", "change_caseevent", "delete_caseevent"]
    )
    assert not Group.objects.filter(permissions__in=forbidden).exists()


def test_moderator_sees_the_queue():
    response = _client(moderator()).get("/admin/cases/case/")
    assert response.status_code == 200


def test_moderator_cannot_delete_a_case():
    case = ring_case()
    response = _client(moderator()).post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


def test_even_a_superuser_cannot_delete_a_case():
    case = ring_case()
    response = _client(_superuser()).post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403


def test_moderator_cannot_edit_an_event():
    event = ring_case().events.get()
    response = _client(moderator()).post(f"/admin/cases/caseevent/{event.pk}/change/",
                                         {"note": "rewritten", "action": "dismissed"})
    event.refresh_from_db()
    assert response.status_code in (302, 403)  # view-only page refuses the write
    assert (event.note, event.action) == ("", "opened")


def test_even_a_superuser_cannot_delete_an_event():
    event = ring_case().events.get()
    response = _client(_superuser()).post(f"/admin/cases/caseevent/{event.pk}/delete/",
                                          {"post": "yes"})
    assert response.status_code == 403
    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_nobody_can_add_an_event_by_hand():
    response = _client(_superuser()).get("/admin/cases/caseevent/add/")
    assert response.status_code == 403


def test_moderator_decides_from_the_case_page():
    case = ring_case()
    response = _client(moderator()).post(f"/admin/cases/case/{case.pk}/decide/",
                                         {"decision": "confirmed", "note": "Ring."})
    assert response.status_code == 302
    assert set(case.reviews.values_list("status", flat=True)) == {Review.Status.REMOVED}


def test_staff_without_the_decide_right_cannot_decide():
    case = ring_case()
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_case"))
    response = _client(viewer).post(f"/admin/cases/case/{case.pk}/decide/",
                                    {"decision": "confirmed", "note": "Ring."})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_decision_without_a_note_changes_nothing():
    case = ring_case()
    _client(moderator()).post(f"/admin/cases/case/{case.pk}/decide/",
                              {"decision": "confirmed", "note": " "})
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_moderator_cannot_decide_in_bulk():
    cases = [ring_case(), ring_case()]
    _client(moderator()).post("/admin/cases/case/", {
        "action": "confirm_selected", "_selected_action": [c.pk for c in cases],
        "apply": "1", "note": "Same wave.",
    })
    assert set(Case.objects.values_list("status", flat=True)) == {"open"}


def test_senior_moderator_decides_in_bulk_with_one_note():
    cases = [ring_case(), ring_case()]
    response = _client(senior_moderator()).post("/admin/cases/case/", {
        "action": "confirm_selected", "_selected_action": [c.pk for c in cases],
        "apply": "1", "note": "Same wave.",
    })
    assert response.status_code == 302
    assert set(Case.objects.values_list("status", flat=True)) == {"confirmed"}
    assert set(CaseEvent.objects.filter(action="confirmed").values_list("note", flat=True)) == {
        "Same wave."}


def test_bulk_decision_asks_for_a_note_first():
    cases = [ring_case(), ring_case()]
    response = _client(senior_moderator()).post("/admin/cases/case/", {
        "action": "dismiss_selected", "_selected_action": [c.pk for c in cases],
    })
    assert response.status_code == 200
    assert b'name="note"' in response.content
    assert set(Case.objects.values_list("status", flat=True)) == {"open"}


def test_assign_to_me_action_assigns_open_cases():
    user = moderator()
    cases = [ring_case(), ring_case()]
    _client(user).post("/admin/cases/case/", {
        "action": "assign_to_me", "_selected_action": [c.pk for c in cases]})
    assert set(Case.objects.values_list("assigned_to", flat=True)) == {user.pk}


def test_partner_page_never_shows_secrets():
    partner = PartnerFactory(webhook_secret="whsec-do-not-show")
    from apps.partners.services import api_key_issue

    key = api_key_issue(partner=partner)
    key_hash = partner.api_keys.get().key_hash
    content = _client(_superuser()).get(f"/admin/partners/partner/{partner.pk}/change/").content
    assert b"whsec-do-not-show" not in content
    assert key_hash.encode() not in content
    assert key.encode() not in content


def test_moderator_cannot_see_partners():
    response = _client(moderator()).get("/admin/partners/partner/")
    assert response.status_code == 403


def test_senior_moderator_sees_webhook_deliveries():
    response = _client(senior_moderator()).get("/admin/partners/webhookdelivery/")
    assert response.status_code == 200

