"""A single review answered 201 is built from what ingest stored, without reading it
back: it must be the same JSON, byte for byte, as reading the review afterwards."""

import pytest
from django.db import connection

from apps.reviews.models import Review
from tests.factories import ReviewerFactory, review_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reviews/"


def _created_then_read(api, payload: dict) -> tuple[bytes, bytes]:
    created = api.post(URL, payload, format="json")
    assert created.status_code == 201
    read = api.get(f"{URL}{payload['external_id']}/")
    assert read.status_code == 200
    return created.content, read.content


def test_a_full_review_answers_201_as_it_reads_back(api, establishment):
    created, read = _created_then_read(api, review_payload("htl-1", external_id="r-full"))
    assert created == read


def test_a_minimal_review_answers_201_as_it_reads_back(api, establishment):
    payload = {
        "external_id": "r-minimal", "establishment": "htl-1", "reviewer": {"external_id": "g-1"},
        "rating": 1, "text": "", "created_at": "2026-05-03T10:12:00.123456+02:00",
    }
    created, read = _created_then_read(api, payload)
    assert created == read


def test_text_with_surrounding_spaces_and_accents_answers_201_as_it_reads_back(
        api, establishment):
    payload = review_payload("htl-1", external_id="r-text", title="  Très  bien ",
                             text=" Chambre calme, accueil chaleureux 👍 \n", language="fr")
    created, read = _created_then_read(api, payload)
    assert created == read


def test_a_known_reviewer_sent_without_a_name_answers_with_the_stored_name(
        partner_api, establishment):
    ReviewerFactory(partner=partner_api.partner, external_id="g-known", display_name="Marie L.")
    payload = review_payload("htl-1", external_id="r-known",
                             reviewer={"external_id": "g-known", "display_name": ""})
    created, read = _created_then_read(partner_api.client, payload)
    assert created == read
    assert b'"display_name":"Marie L."' in created


def test_a_review_answered_201_is_committed_and_pending(api, establishment):
    body = api.post(URL, review_payload("htl-1", external_id="r-stored"), format="json").json()
    stored = Review.objects.get(external_id="r-stored")
    assert (body["status"], body["risk"], body["cases"]) == ("pending", {"score": None,
                                                                         "reasons": []}, [])
    assert stored.status == Review.Status.PENDING


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement upserts")
def test_a_single_new_review_takes_four_queries_once_the_key_is_known(
        api, establishment, django_assert_num_queries):
    api.get(URL)  # the API key is looked up once, then remembered for a few seconds
    # establishment, stored reviews, reviewer upsert, review insert (PostgreSQL)
    with django_assert_num_queries(4):
        assert api.post(URL, review_payload("htl-1"), format="json").status_code == 201
