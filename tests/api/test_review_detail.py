"""Reading one review: its case ids, its filters, its cost."""

import pytest
from django.db import connection

from apps.cases.models import Case
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/reviews/"


def _case(n: int, *reviews) -> Case:
    case = Case.objects.create(kind=Case.Kind.SOCK_PUPPET_RING, fingerprint=f"detail-{n}",
                               severity=0.5)
    case.reviews.add(*reviews)
    return case


def test_a_review_in_two_cases_lists_both_case_ids_in_order(partner_api):
    review = ReviewFactory(partner=partner_api.partner)
    later, earlier = _case(2, review), _case(1, review)
    body = partner_api.client.get(f"{URL}{review.external_id}/").json()
    assert body["cases"] == sorted([later.id, earlier.id])


def test_a_case_of_another_review_is_not_listed(partner_api):
    review = ReviewFactory(partner=partner_api.partner)
    _case(1, ReviewFactory(partner=partner_api.partner))
    assert partner_api.client.get(f"{URL}{review.external_id}/").json()["cases"] == []


def test_a_detail_read_with_a_query_string_is_still_filtered(partner_api):
    review = ReviewFactory(partner=partner_api.partner)  # pending
    assert partner_api.client.get(f"{URL}{review.external_id}/?status=held").status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="case ids as an array subquery")
def test_a_detail_read_takes_one_query_once_the_key_is_known(
        partner_api, django_assert_num_queries):
    review = ReviewFactory(partner=partner_api.partner)
    _case(1, review)
    partner_api.client.get(URL)  # the API key is looked up once, then remembered
    with django_assert_num_queries(1):
        assert partner_api.client.get(f"{URL}{review.external_id}/").status_code == 200
