"""Cases through the partner API: scoped to the partner's members, filterable."""

import pytest

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"


def _case_for(review, kind=Case.Kind.ANOMALOUS_REVIEWER):
    case, _ = case_upsert(
        finding=CaseFinding(
            kind=kind,
            member_keys=(f"reviewer:{review.reviewer_id}",),
            severity=0.8,
            reasons=[{"code": "new_account", "score": 1.0, "en": "New account.", "fr": "Compte récent."}],
            review_ids=(review.id,),
            reviewer_ids=(review.reviewer_id,),
            establishment_ids=(review.establishment_id,),
            partner_ids=(review.partner_id,),
        )
    )
    return case


def test_case_detail_lists_members_and_reasons(partner_api):
    review = ReviewFactory(partner=partner_api.partner, external_id="r-1")
    case = _case_for(review)
    body = partner_api.client.get(f"{URL}{case.id}/").json()
    assert body["kind"] == "anomalous_reviewer"
    assert body["status"] == "open"
    assert body["reviews"] == ["r-1"]
    assert body["establishments"] == [review.establishment.external_id]
    assert body["reasons"] == [{"code": "new_account", "score": 1.0, "detail": "New account."}]


def test_another_partners_case_is_404(partner_api, other_partner_api):
    case = _case_for(ReviewFactory(partner=other_partner_api.partner))
    assert partner_api.client.get(f"{URL}{case.id}/").status_code == 404


def test_cases_filter_by_kind(partner_api):
    _case_for(ReviewFactory(partner=partner_api.partner), kind=Case.Kind.ANOMALOUS_REVIEWER)
    _case_for(ReviewFactory(partner=partner_api.partner), kind=Case.Kind.REVIEW_BOMBING)
    body = partner_api.client.get(URL, {"kind": "review_bombing"}).json()
    assert [c["kind"] for c in body["results"]] == ["review_bombing"]


def test_cases_filter_by_establishment(partner_api):
    mine = ReviewFactory(partner=partner_api.partner)
    _case_for(mine)
    _case_for(ReviewFactory(partner=partner_api.partner))
    body = partner_api.client.get(URL, {"establishment": mine.establishment.external_id}).json()
    assert len(body["results"]) == 1


def test_review_shows_its_case_ids(partner_api):
    review = ReviewFactory(partner=partner_api.partner, external_id="r-1")
    case = _case_for(review)
    assert partner_api.client.get("/api/v1/reviews/r-1/").json()["cases"] == [case.id]


def _ring_case(partner, n_reviews: int, label: str) -> Case:
    reviews = [ReviewFactory(partner=partner, external_id=f"{label}-{k}") for k in range(n_reviews)]
    case, _ = case_upsert(finding=CaseFinding(
        kind=Case.Kind.SOCK_PUPPET_RING,
        member_keys=tuple(f"reviewer:{r.reviewer_id}" for r in reviews),
        severity=0.9, reasons=[],
        review_ids=tuple(r.id for r in reviews),
        reviewer_ids=tuple(r.reviewer_id for r in reviews),
        establishment_ids=tuple({r.establishment_id for r in reviews}),
        partner_ids=(partner.id,),
    ))
    return case


def _queries_for_a_page(partner_api) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert partner_api.client.get(URL).status_code == 200
    return len(queries)


def test_a_page_of_cases_reads_its_members_in_the_same_queries_however_many(partner_api):
    _ring_case(partner_api.partner, 2, "small")
    partner_api.client.get(URL)  # the API key is looked up once, then remembered
    few = _queries_for_a_page(partner_api)
    for k in range(3):
        _ring_case(partner_api.partner, 12, f"big{k}")
    assert _queries_for_a_page(partner_api) == few


def test_a_cases_reviews_are_listed_in_the_order_they_joined_it(partner_api):
    case = _ring_case(partner_api.partner, 5, "ord")
    body = partner_api.client.get(f"{URL}{case.id}/").json()
    assert body["reviews"] == [f"ord-{k}" for k in range(5)]
