"""factory_boy factories and valid API payload builders shared by the tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import factory

from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review, Reviewer

_seq = itertools.count()


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    webhook_secret = factory.Sequence(lambda n: f"whsec-{n}")


class EstablishmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Establishment

    partner = factory.SubFactory(PartnerFactory)
    external_id = factory.Sequence(lambda n: f"est-{n}")
    name = factory.Sequence(lambda n: f"Hôtel {n}")
    kind = Establishment.Kind.HOTEL
    city = "Lyon"
    country = "FR"


class ReviewerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reviewer

    partner = factory.SubFactory(PartnerFactory)
    external_id = factory.Sequence(lambda n: f"user-{n}")
    display_name = factory.Sequence(lambda n: f"Guest {n}")
    account_created_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=900))


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    partner = factory.SubFactory(PartnerFactory)
    establishment = factory.SubFactory(
        EstablishmentFactory, partner=factory.SelfAttribute("..partner")
    )
    reviewer = factory.SubFactory(ReviewerFactory, partner=factory.SelfAttribute("..partner"))
    external_id = factory.Sequence(lambda n: f"review-{n}")
    rating = 4
    text = "Clean room, friendly staff."
    created_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=3))
    payload_hash = factory.Sequence(lambda n: f"{n:064x}")


def establishment_payload(**overrides) -> dict:
    n = next(_seq)
    payload = {
        "external_id": f"est-p{n}",
        "name": f"Hôtel Payload {n}",
        "kind": "hotel",
        "city": "Paris",
        "country": "FR",
    }
    payload.update(overrides)
    return payload


def review_payload(establishment: str, **overrides) -> dict:
    """A valid review payload; ``reviewer`` overrides merge into the default reviewer."""
    n = next(_seq)
    reviewer = {
        "external_id": f"guest-{n}",
        "display_name": f"Guest {n}",
        "email": f"guest{n}@example.org",
        "account_created_at": "2023-01-15T09:00:00Z",
        "ip": f"203.0.113.{n % 250 + 1}",
        "device_id": f"device-{n}",
    }
    reviewer.update(overrides.pop("reviewer", {}))
    payload = {
        "external_id": f"rv-{n}",
        "establishment": establishment,
        "reviewer": reviewer,
        "rating": 4,
        "title": "Nice stay",
        "text": "Quiet room and a friendly front desk.",
        "language": "en",
        "visit_date": "2026-05-01",
        "booking_ref": f"BK-{n:06d}",
        "created_at": "2026-05-03T08:12:00Z",
    }
    payload.update(overrides)
    return payload
