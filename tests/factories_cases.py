"""Factories and builders for cases, moderators and rings (beside tests/factories.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert
from apps.reviews.models import Review

from .factories import EstablishmentFactory, PartnerFactory, ReviewerFactory, ReviewFactory

PASSWORD = "correct-horse-battery-staple"


@cache
def _password_hash() -> str:
    # Hashing is slow on purpose; one hash serves every test user.
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"moderator{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@reviewguard.test")
    is_staff = True
    password = factory.LazyFunction(_password_hash)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get(name=name))
        self.save()


def moderator(**kwargs):
    return UserFactory(groups=["Moderators"], **kwargs)


def senior_moderator(**kwargs):
    return UserFactory(groups=["Senior moderators"], **kwargs)


def finding_for(reviews: list[Review], *, kind: str = Case.Kind.SOCK_PUPPET_RING,
                severity: float = 0.8, keys: tuple[str, ...] | None = None) -> CaseFinding:
    """A finding over ``reviews``; member keys default to their reviewers."""
    reviewer_ids = tuple(sorted({r.reviewer_id for r in reviews}))
    return CaseFinding(
        kind=kind,
        member_keys=keys or tuple(f"reviewer:{rid}" for rid in reviewer_ids),
        severity=severity,
        reasons=[{"code": "shared_device", "score": severity,
                  "en": "Reviewers share a device.", "fr": "Les auteurs partagent un appareil."}],
        summary=f"{len(reviewer_ids)} reviewers",
        review_ids=tuple(r.id for r in reviews),
        reviewer_ids=reviewer_ids,
        establishment_ids=tuple(sorted({r.establishment_id for r in reviews})),
        partner_ids=tuple(sorted({r.partner_id for r in reviews})),
    )


def ring_reviews(*, partner=None, members: int = 3, establishments: int = 2,
                 status: str = Review.Status.HELD, when: datetime | None = None) -> list[Review]:
    """Reviews of a small ring: every member reviews every establishment with 5 stars."""
    partner = partner or PartnerFactory()
    when = when or datetime.now(UTC) - timedelta(days=2)
    ests = [EstablishmentFactory(partner=partner) for _ in range(establishments)]
    reviewers = [ReviewerFactory(partner=partner) for _ in range(members)]
    return [
        ReviewFactory(partner=partner, establishment=est, reviewer=reviewer, rating=5,
                      status=status, created_at=when + timedelta(minutes=10 * i + j),
                      device_hash="ring-device", text="Best hotel ever, amazing staff!")
        for i, reviewer in enumerate(reviewers)
        for j, est in enumerate(ests)
    ]


def ring_case(**kwargs) -> Case:
    """An open ring case over fresh held reviews."""
    case, _ = case_upsert(finding=finding_for(ring_reviews(**kwargs)))
    return case
