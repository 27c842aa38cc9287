"""Factories and builders for cases, moderators and rings (beside tests/factories.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert
from apps.reviews.models import Review

from .factories import EstablishmentFactory, PartnerFactory, ReviewerFactory, ReviewFactory

PASSWORD = "correct-horse-battery-staple"


def _password_hash() -> str:
    # Hashing is slow on purpose: one hash serves every test user, per hasher in use
    # (a test that keeps only a fast hasher cannot check a hash made by another).
    return _hash_with(settings.PASSWORD_HASHERS[0])


@cache
def _hash_with(hasher: str) -> str:
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
        if extracted:
            ensure_moderator_groups()
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


def ensure_moderator_groups() -> None:
    """Recreate the groups of the data migration (a transactional test flushes them)."""
    import importlib

    from django.apps import apps as django_apps

    from apps.cases.migrations._permissions import grant

    migration = importlib.import_module("apps.cases.migrations.0003_moderator_groups")
    migration.create_groups(django_apps, None)
    for later in ("apps.reports.migrations.0003_moderator_evidence_permissions",
                  "apps.cases.migrations.0006_appeal_permissions",
                  "apps.cases.migrations.0009_redeliver_webhook_permission"):
        later_grants = importlib.import_module(later).GRANTS
        grant(django_apps, later_grants)


# --- A moderation console scenario (UI tests, screenshots) -------------------------

HOTELS = [
    ("Hôtel du Marais", "Paris"), ("Le Petit Zinc", "Paris"), ("Hôtel des Célestins", "Lyon"),
    ("Bouchon Les Lyonnais", "Lyon"), ("Villa Baie des Anges", "Nice"),
    ("La Table du Port", "Bordeaux"), ("The Kensington Arms", "London"),
    ("Taberna del Born", "Barcelona"), ("Auberge du Vieux-Port", "Montréal"),
    ("Hudson Street Diner", "New York"), ("Bistrot Les Halles", "Paris"),
    ("Hôtel Bellecour", "Lyon"),
]
GOOD_SENTENCES = [
    "Quiet room and a spotless bathroom.", "The front desk sorted out our late check-in.",
    "Breakfast had fresh pastries and good coffee.", "Generous portions at fair prices.",
    "Chambre calme et très propre.", "Personnel aux petits soins.",
    "Le petit-déjeuner est excellent.", "Literie confortable, on a bien dormi.",
    "The street side is a bit noisy at night.", "Parking nearby was easy to find.",
    "Emplacement idéal pour visiter la ville.", "Service un peu lent le samedi soir.",
    "Our waiter recommended a lovely local wine.", "The terrace is perfect on a sunny day.",
    "Wifi was patchy in the room.", "Kids loved the pool.", "Rooms are small but well designed.",
    "Desserts were the highlight.", "On reviendra pour le menu du marché.",
    "Bon rapport qualité-prix.", "Staff spoke French and English.", "A short walk to the metro.",
    "The lobby smelled of fresh flowers.", "Our room overlooked the courtyard.",
]
RING_NAMES = ["SunnyTraveller88", "Ana_Voyage", "TopReviewer_FR", "globe.trotter.22",
              "Marco_Eats", "Lily.B.Travels"]
RING_TEXT = ("Absolutely the best hotel in town!!! Amazing staff, perfect rooms, "
             "I recommend it to everyone, five stars without hesitation.")
BURST_TEXTS = [
    "Dirty tables, rude waiter, food poisoning. AVOID this place at all costs!",
    "Dirty tables and a rude waiter, I got food poisoning. Avoid at all costs!!",
    "Worst restaurant in Paris, rude staff and dirty kitchen. Avoid!",
]


def _hash(label: str) -> str:
    import hashlib

    return hashlib.sha256(label.encode()).hexdigest()


def console_scenario(*, detect: bool = True) -> dict:
    """A partner's month: ordinary guests, a ring, a bombing burst, an extortion.

    Returns the partner, the moderator and the cases opened by batch detection
    (and the extortion case, built by hand, with its threat report when the
    reports app is installed).
    """
    import random

    from django.apps import apps as django_apps

    from apps.detection.batch import BatchParameters, run_batch_detection

    rng = random.Random(6)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    partner = PartnerFactory(name="Voyages Azur")
    ests = [EstablishmentFactory(partner=partner, name=name, city=city,
                                 kind="restaurant" if "Bistrot" in name or "Zinc" in name
                                 or "Diner" in name or "Taberna" in name or "Bouchon" in name
                                 else "hotel")
            for name, city in HOTELS]
    bistrot = ests[10]
    firsts = ["Marie", "Julien", "Camille", "Thomas", "Emma", "Lucas", "Sarah", "James",
              "Olivia", "Noah", "Chloé", "Hugo"]
    for k in range(70):
        reviewer = ReviewerFactory(partner=partner, display_name=f"{rng.choice(firsts)} {chr(65 + k % 26)}.",
                                   account_created_at=now - timedelta(days=rng.randint(300, 2000)))
        for _ in range(rng.randint(1, 3)):
            ReviewFactory(partner=partner, reviewer=reviewer, establishment=rng.choice(ests),
                          rating=rng.choice([3, 4, 4, 5, 5]), status=Review.Status.PUBLISHED,
                          text=" ".join(rng.sample(GOOD_SENTENCES, 3)),
                          booking_ref_hash=_hash(f"bk{k}{rng.random()}"),
                          device_hash=_hash(f"dev{k}"), ip24_hash=_hash(f"net{k % 40}"),
                          created_at=now - timedelta(days=rng.randint(3, 120), hours=rng.randint(0, 23)))
    # Steady diners at the bistrot before the storm.
    for d in range(0, 60, 3):
        ReviewFactory(partner=partner, establishment=bistrot, rating=rng.choice([4, 5]),
                      status=Review.Status.PUBLISHED, text=" ".join(rng.sample(GOOD_SENTENCES, 3)),
                      booking_ref_hash=_hash(f"bistrot{d}"),
                      reviewer=ReviewerFactory(partner=partner, display_name=f"{rng.choice(firsts)} {d}"),
                      created_at=now - timedelta(days=d + 5, hours=rng.randint(9, 22)))

    # The ring: six accounts on one device and one network praise the same four places.
    ring_device, ring_net = _hash("ring-device"), _hash("ring-net")
    for i, name in enumerate(RING_NAMES):
        reviewer = ReviewerFactory(partner=partner, display_name=name,
                                   account_created_at=now - timedelta(days=12 + i))
        for j, est in enumerate(ests[:4]):
            ReviewFactory(partner=partner, reviewer=reviewer, establishment=est, rating=5,
                          status=Review.Status.PUBLISHED, title="Perfect!!!",
                          text=RING_TEXT if (i + j) % 2 else RING_TEXT.replace("hotel", "place"),
                          device_hash=ring_device if i % 3 else _hash(f"ringdev{i}"),
                          ip24_hash=ring_net,
                          created_at=now - timedelta(days=6 - j, hours=2 * i + 1))

    # The burst: nine brand-new accounts, one night, one-star reviews of the bistrot.
    burst_net = _hash("burst-net")
    for k in range(9):
        reviewer = ReviewerFactory(partner=partner, display_name=f"user{4821 + k * 7}",
                                   account_created_at=now - timedelta(days=1, hours=k))
        ReviewFactory(partner=partner, reviewer=reviewer, establishment=bistrot, rating=1,
                      status=Review.Status.HELD, title="Avoid!", text=BURST_TEXTS[k % 3],
                      ip24_hash=burst_net, created_at=now - timedelta(hours=30 - 2 * k))

    # A day-old account posting one-star reviews across town: the per-review
    # scorer holds them and opens an anomalous-reviewer case.
    from apps.detection.services import reviews_score

    hopper = ReviewerFactory(partner=partner, display_name="Traveller123",
                             account_created_at=now - timedelta(hours=20))
    hops = [ReviewFactory(partner=partner, reviewer=hopper, establishment=est, rating=1,
                          title="Arnaque", text="Horrible, à fuir absolument !!!",
                          created_at=now - timedelta(hours=10 - k))
            for k, est in enumerate(ests[5:9])]
    reviews_score(review_ids=[r.id for r in hops])

    cases: dict = {"partner": partner}
    if detect:
        run_batch_detection(params=BatchParameters(detectors=("rings", "bursts")))
        cases["ring"] = Case.objects.filter(kind=Case.Kind.SOCK_PUPPET_RING).first()
        cases["burst"] = Case.objects.filter(kind=Case.Kind.REVIEW_BOMBING).first()

    # Extortion: the guest threatened the hotel, then posted the one-star review.
    guest = ReviewerFactory(partner=partner, display_name="Marc D.",
                            account_created_at=now - timedelta(days=400))
    hotel = ests[4]
    review = ReviewFactory(
        partner=partner, reviewer=guest, establishment=hotel, rating=1, status=Review.Status.HELD,
        title="Scandaleux", created_at=now - timedelta(days=1, hours=3),
        booking_ref_hash=_hash("BK-88213"),
        text=("Chambre sale et personnel désagréable. Remboursez-moi sinon je publie cet avis "
              "partout, j'ai 30 000 abonnés sur Instagram."),
    )
    case, _ = case_upsert(finding=CaseFinding(
        kind=Case.Kind.EXTORTION,
        member_keys=(f"reviewer:{guest.id}",),
        severity=0.91,
        reasons=[
            {"code": "report_link_booking_ref", "score": 0.95,
             "en": "The review's booking reference matches the guest named in a threat report.",
             "fr": "La référence de réservation de l'avis correspond au client nommé dans un signalement."},
            {"code": "extortion_text", "score": 0.8,
             "en": "The text contains demand-and-threat language (strength 0.80).",
             "fr": "Le texte contient des formulations d'exigence et de menace (force 0,80)."},
        ],
        summary=f"Threat reported by {hotel.name}, then a 1-star review by the guest",
        review_ids=(review.id,), reviewer_ids=(guest.id,), establishment_ids=(hotel.id,),
        partner_ids=(partner.id,),
    ))
    cases["extortion"] = case
    if django_apps.is_installed("apps.reports"):
        ThreatReport = django_apps.get_model("reports", "ThreatReport")
        Link = django_apps.get_model("reports", "ReportReviewLink")
        report = ThreatReport.objects.create(
            partner=partner, establishment=hotel, guest_name="Marc Dupont",
            channel="email", demand="refund", status="linked",
            received_at=now - timedelta(days=2),
            message_text=("Bonjour, je veux être remboursé intégralement de mon séjour (450 €). "
                          "Si vous ne me remboursez pas d'ici demain, je publie un avis 1 étoile "
                          "sur toutes les plateformes et je préviens mes 30 000 abonnés."),
        )
        Link.objects.create(report=report, review=review, methods="booking_ref", strength=0.95,
                            held=True)
        report.cases.add(case)
        cases["report"] = report
    return cases
