"""Backfills are scored in bulk without webhooks; partners may take one signed
reviews.scored event per batch instead of one event per review."""

import json

import pytest
from django.core.management import CommandError, call_command

from apps.detection.services import reviews_score
from apps.partners.models import Partner, WebhookDelivery
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, PartnerFactory, ReviewFactory, review_payload

pytestmark = pytest.mark.django_db


def test_batched_partner_gets_one_reviews_scored_event_per_batch():
    partner = PartnerFactory(webhook_url="https://p.example/hook",
                             scored_events=Partner.ScoredEvents.BATCHED)
    reviews = [ReviewFactory(partner=partner) for _ in range(4)]

    reviews_score(review_ids=[r.id for r in reviews])

    (delivery,) = WebhookDelivery.objects.filter(partner=partner)
    assert delivery.event == "reviews.scored"
    items = delivery.payload["data"]["reviews"]
    assert sorted(i["external_id"] for i in items) == sorted(r.external_id for r in reviews)
    assert all(i["status"] in ("published", "held") and "risk" in i for i in items)


def test_per_review_partner_still_gets_one_event_per_review():
    partner = PartnerFactory(webhook_url="https://p.example/hook")
    reviews = [ReviewFactory(partner=partner) for _ in range(3)]

    reviews_score(review_ids=[r.id for r in reviews])

    events = WebhookDelivery.objects.filter(partner=partner).values_list("event", flat=True)
    assert list(events) == ["review.status_changed"] * 3


def test_historical_reviews_are_scored_without_webhooks():
    partner = PartnerFactory(webhook_url="https://p.example/hook")
    review = ReviewFactory(partner=partner, historical=True)

    reviews_score(review_ids=[review.id], historical=True)

    review.refresh_from_db()
    assert review.status != Review.Status.PENDING
    assert not WebhookDelivery.objects.exists()


@pytest.fixture
def backfill(tmp_path):
    partner = PartnerFactory(name="Backfill Travel")
    EstablishmentFactory(partner=partner, external_id="htl-9")
    path = tmp_path / "history.jsonl"
    lines = [json.dumps(review_payload(establishment="htl-9", external_id=f"old-{k}"))
             for k in range(5)]
    path.write_text("\n".join(lines) + "\n")
    return partner, path


def test_import_reviews_stores_them_as_historical(backfill, django_capture_on_commit_callbacks):
    partner, path = backfill
    with django_capture_on_commit_callbacks():
        call_command("import_reviews", str(path), partner=partner.name, verbosity=0)
    stored = Review.objects.filter(partner=partner)
    assert stored.count() == 5 and all(r.historical for r in stored)


def test_import_reviews_twice_stores_nothing_new(backfill):
    partner, path = backfill
    call_command("import_reviews", str(path), partner=partner.name, verbosity=0)
    call_command("import_reviews", str(path), partner=partner.name, verbosity=0)
    assert Review.objects.filter(partner=partner).count() == 5


def test_import_reviews_reports_invalid_lines_and_fails(backfill):
    partner, path = backfill
    path.write_text(path.read_text() + '{"external_id": "broken"}\nnot json\n')
    with pytest.raises(CommandError):
        call_command("import_reviews", str(path), partner=partner.name, verbosity=0)
    assert Review.objects.filter(partner=partner).count() == 5


def test_import_reviews_reads_csv(tmp_path):
    partner = PartnerFactory(name="Csv Travel")
    EstablishmentFactory(partner=partner, external_id="htl-1")
    path = tmp_path / "history.csv"
    path.write_text(
        "external_id,establishment,reviewer_external_id,reviewer_email,rating,text,created_at\n"
        "c-1,htl-1,u-1,a@example.org,4,Lovely stay.,2025-05-01T10:00:00Z\n"
    )
    call_command("import_reviews", str(path), partner=partner.name, verbosity=0)
    assert Review.objects.get(external_id="c-1").historical
