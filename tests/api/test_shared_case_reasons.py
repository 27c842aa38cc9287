"""A case shared by two partners shows each only the reasons its own reviews carry,
and the partner-neutral counts (issue 11, audit item 10)."""

from __future__ import annotations

import pytest

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_payload, case_upsert
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"

A_QUOTE = {"code": "demand_with_threat", "score": 0.9,
           "values": {"quote": "refund me or I post everywhere"}}
B_QUOTE = {"code": "demand_with_threat", "score": 0.95,
           "values": {"quote": "pay me back or one star for you"}}
B_REPORT = {"code": "report_identity_match", "score": 0.8,
            "values": {"methods": ["email"], "delay_days": 2}}
RING_COUNT = {"code": "ring_shared_device", "score": 0.7, "values": {"members": 4}}


@pytest.fixture
def shared_case(partner_api, other_partner_api) -> Case:
    """A ring over one review on each partner's site; its reasons came from both."""
    mine = ReviewFactory(partner=partner_api.partner, risk_reasons=[A_QUOTE])
    theirs = ReviewFactory(partner=other_partner_api.partner, risk_reasons=[B_QUOTE, B_REPORT])
    reviews = [mine, theirs]
    case, _ = case_upsert(finding=CaseFinding(
        kind=Case.Kind.SOCK_PUPPET_RING,
        member_keys=tuple(f"reviewer:{r.reviewer_id}" for r in reviews),
        severity=0.9, reasons=[B_QUOTE, B_REPORT, RING_COUNT],
        review_ids=tuple(r.id for r in reviews),
        reviewer_ids=tuple(r.reviewer_id for r in reviews),
        establishment_ids=tuple(r.establishment_id for r in reviews),
        partner_ids=tuple(r.partner_id for r in reviews)))
    return case


def _details(api, case) -> list[str]:
    return [r["detail"] for r in api.get(f"{URL}{case.pk}/").json()["reasons"]]


def test_a_partner_does_not_see_the_quote_of_another_partners_review(partner_api, shared_case):
    assert not any("one star for you" in d for d in _details(partner_api.client, shared_case))


def test_a_partner_sees_its_own_reviews_version_of_a_shared_reason(partner_api, shared_case):
    assert any("refund me or I post everywhere" in d
               for d in _details(partner_api.client, shared_case))


def test_a_reason_only_another_partners_review_carries_is_not_shown(partner_api, shared_case):
    codes = [r["code"] for r in partner_api.client.get(f"{URL}{shared_case.pk}/").json()["reasons"]]
    assert "report_identity_match" not in codes


def test_partner_neutral_counts_are_shown_to_every_partner(partner_api, other_partner_api,
                                                           shared_case):
    for client in (partner_api.client, other_partner_api.client):
        codes = [r["code"] for r in client.get(f"{URL}{shared_case.pk}/").json()["reasons"]]
        assert "ring_shared_device" in codes


def test_the_other_partner_sees_its_own_reasons(other_partner_api, shared_case):
    codes = [r["code"] for r in
             other_partner_api.client.get(f"{URL}{shared_case.pk}/").json()["reasons"]]
    assert codes == ["demand_with_threat", "report_identity_match", "ring_shared_device"]


def test_a_case_of_one_partner_shows_all_its_reasons(partner_api):
    review = ReviewFactory(partner=partner_api.partner, risk_reasons=[])
    case, _ = case_upsert(finding=CaseFinding(
        kind=Case.Kind.ANOMALOUS_REVIEWER, member_keys=(f"reviewer:{review.reviewer_id}",),
        severity=0.8, reasons=[B_REPORT], review_ids=(review.id,),
        reviewer_ids=(review.reviewer_id,), establishment_ids=(review.establishment_id,),
        partner_ids=(review.partner_id,)))
    codes = [r["code"] for r in partner_api.client.get(f"{URL}{case.pk}/").json()["reasons"]]
    assert codes == ["report_identity_match"]


def test_the_case_list_scopes_reasons_as_the_detail_does(partner_api, shared_case):
    listed = partner_api.client.get(URL).json()["results"][0]["reasons"]
    assert [r["code"] for r in listed] == ["demand_with_threat", "ring_shared_device"]


@pytest.fixture
def emitted(monkeypatch) -> list[dict]:
    """Webhook events as emitted (the partners of the factories have no endpoint)."""
    events: list[dict] = []
    monkeypatch.setattr("apps.cases.services.webhook_emit", lambda **kw: events.append(kw))
    return events


def test_the_case_opened_webhook_scopes_reasons_per_partner(emitted, partner_api, shared_case):
    data = next(e["data"] for e in emitted
                if e["event"] == "case.opened" and e["partner"] == partner_api.partner)
    assert [r["code"] for r in data["reasons"]] == ["demand_with_threat", "ring_shared_device"]


def test_the_case_payload_without_a_partner_is_whole(shared_case):
    assert len(case_payload(shared_case)["reasons"]) == 3
