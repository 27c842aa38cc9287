"""``manage.py load_demo_data``: a demo partner with hotels and restaurants in
France and elsewhere, English and French reviews, and one obvious abuse pattern.

Idempotent: reviews are ingested through the same service as the API, so a
second run stores nothing new. Each run prints a fresh API key for the demo
partner (keys are shown once and only their hash is kept), and how to sign in
as the demo owner (portal) and the demo moderators (admin), whose passwords are
known: they are for a local machine only (``--no-users`` skips them).
"""

import random
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from apps.detection.services import reviews_submit
from apps.establishments.models import Establishment
from apps.establishments.services import establishments_upsert, owner_membership_add
from apps.partners.models import Partner
from apps.partners.services import api_key_issue, partner_create

ESTABLISHMENTS = [
    ("htl-paris-01", "Hôtel du Marais", "hotel", "Paris", "FR"),
    ("rst-paris-02", "Le Petit Zinc", "restaurant", "Paris", "FR"),
    ("htl-lyon-01", "Hôtel des Célestins", "hotel", "Lyon", "FR"),
    ("rst-lyon-02", "Bouchon Les Lyonnais", "restaurant", "Lyon", "FR"),
    ("htl-nice-01", "Villa Baie des Anges", "hotel", "Nice", "FR"),
    ("rst-bdx-01", "La Table du Port de la Lune", "restaurant", "Bordeaux", "FR"),
    ("htl-ldn-01", "The Kensington Arms", "hotel", "London", "GB"),
    ("rst-bcn-01", "Taberna del Born", "restaurant", "Barcelona", "ES"),
    ("htl-mtl-01", "Auberge du Vieux-Port", "hotel", "Montréal", "CA"),
    ("rst-nyc-01", "Hudson Street Diner", "restaurant", "New York", "US"),
]

GOOD_FR = [
    ("Séjour parfait", "Chambre calme et très propre, personnel aux petits soins. Le petit-déjeuner est excellent."),
    ("Très bonne adresse", "Cuisine généreuse, service souriant et addition raisonnable. Nous reviendrons."),
    ("Accueil chaleureux", "Réception efficace, literie confortable, emplacement idéal pour visiter la ville."),
]
GOOD_EN = [
    ("Lovely stay", "Quiet room, spotless bathroom and a very helpful front desk. Breakfast was great."),
    ("Great food", "Generous portions, friendly staff and fair prices. We will be back."),
    ("Perfect location", "Walking distance to everything, comfortable bed, and the staff gave great tips."),
]
MIXED_FR = [
    ("Correct sans plus", "Chambre un peu petite et bruyante côté rue, mais bien située et propre."),
    ("Service lent", "Les plats étaient bons mais il a fallu attendre quarante minutes entre l'entrée et le plat."),
]
MIXED_EN = [
    ("Okay but noisy", "The room faced the street and the noise kept us up, though the staff were kind."),
    ("Slow service", "Food was good but we waited forty minutes for our mains on a quiet evening."),
]
HONEST_NEGATIVE = [
    ("Déçus", "Climatisation en panne pendant trois nuits en pleine canicule. J'ai demandé un "
     "remboursement partiel à la réception, refusé. Je partage mon expérience pour informer "
     "les futurs clients.", "fr", 2),
    ("Disappointing", "Our booked sea-view room was not available and we were moved to a room "
     "over the kitchen. I asked for a refund of the difference and was refused, so here is "
     "my honest review.", "en", 2),
]


def _review(rng, *, i, est, reviewer, rating, title, text, lang, when, booking=True):
    return {
        "external_id": f"demo-rv-{i:04d}",
        "establishment": est,
        "reviewer": {
            "external_id": reviewer["id"],
            "display_name": reviewer["name"],
            "email": reviewer["email"],
            "account_created_at": reviewer["created"],
            "ip": reviewer["ip"],
            "device_id": reviewer["device"],
        },
        "rating": rating,
        "title": title,
        "text": text,
        "language": lang,
        "visit_date": (when - timedelta(days=rng.randint(1, 6))).date(),
        "booking_ref": f"BK{rng.randint(100000, 999999)}" if booking else "",
        "created_at": when,
    }


def demo_reviews(now: datetime) -> list[dict]:
    rng = random.Random(20261123)
    firsts = ["Marie", "Julien", "Camille", "Thomas", "Emma", "Lucas", "Sarah", "James", "Olivia", "Noah"]
    reviewers = [
        {
            "id": f"demo-u-{k:03d}",
            "name": f"{rng.choice(firsts)} {chr(65 + k % 26)}.",
            "email": f"guest{k}@example.org",
            "created": now - timedelta(days=rng.randint(200, 2000)),
            "ip": f"198.51.{k % 200}.{rng.randint(1, 254)}",
            "device": f"dev-{k:04d}",
        }
        for k in range(60)
    ]
    items, i = [], 0
    for est, *_rest, country in ESTABLISHMENTS:
        for _ in range(12):
            reviewer = rng.choice(reviewers)
            french = country in ("FR", "CA") and rng.random() < 0.8
            roll = rng.random()
            if roll < 0.7:
                title, text = rng.choice(GOOD_FR if french else GOOD_EN)
                rating = rng.choice([4, 5, 5])
            else:
                title, text = rng.choice(MIXED_FR if french else MIXED_EN)
                rating = 3
            when = now - timedelta(days=rng.randint(2, 300), hours=rng.randint(0, 23))
            items.append(_review(rng, i=i, est=est, reviewer=reviewer, rating=rating, title=title,
                                 text=text, lang="fr" if french else "en", when=when))
            i += 1
    for (title, text, lang, rating), est in zip(HONEST_NEGATIVE, ("htl-nice-01", "htl-ldn-01"), strict=True):
        items.append(_review(rng, i=i, est=est, reviewer=rng.choice(reviewers), rating=rating,
                             title=title, text=text, lang=lang, when=now - timedelta(days=3)))
        i += 1
    # One brand-new account posting one-star reviews across town within hours.
    burst = {"id": "demo-u-burst", "name": "Traveller123", "email": "tr123@example.net",
             "created": now - timedelta(hours=20), "ip": "203.0.113.50", "device": "dev-burst"}
    for k, est in enumerate(("htl-paris-01", "rst-paris-02", "htl-lyon-01", "rst-lyon-02", "htl-nice-01")):
        items.append(_review(rng, i=i, est=est, reviewer=burst, rating=1, title="Arnaque",
                             text="Horrible, à fuir absolument !!!", lang="fr",
                             when=now - timedelta(hours=10 - k), booking=False))
        i += 1
    return items


# Known, local-only credentials (printed by the command).
DEMO_USERS = [
    # username, e-mail, password, group (None: an owner), first name, last name
    ("demo-owner", "owner@demo.reviewguard.localhost", "demo-owner-2026", None, "Claire",
     "Martin"),
    ("demo-moderator", "moderator@demo.reviewguard.localhost", "demo-moderator-2026",
     "Moderators", "Hugo", "Bernard"),
    ("demo-senior", "senior@demo.reviewguard.localhost", "demo-senior-2026",
     "Senior moderators", "Inès", "Laurent"),
]
DEMO_OWNER_ESTABLISHMENTS = ("htl-lyon-01", "rst-lyon-02")


def demo_users(partner) -> list[tuple[str, str, str, str | None]]:
    """Create (or reset) the demo owner and moderators; returns what to print."""
    user_model = get_user_model()
    created = []
    for username, email, password, group, first, last in DEMO_USERS:
        user, _ = user_model.objects.get_or_create(username=username)
        user.email, user.first_name, user.last_name = email, first, last
        user.is_staff = group is not None
        user.set_password(password)
        user.save()
        if group is None:
            for establishment in Establishment.objects.filter(
                    partner=partner, external_id__in=DEMO_OWNER_ESTABLISHMENTS):
                owner_membership_add(user=user, establishment=establishment, language="fr")
        else:
            user.groups.add(Group.objects.get(name=group))
        created.append((email, password, group))
    return created


class Command(BaseCommand):
    help = "Load demo establishments and reviews and print an API key for the demo partner."

    def add_arguments(self, parser):
        parser.add_argument("--partner", default="Demo Travel")
        parser.add_argument("--no-users", action="store_true",
                            help="Do not create the demo owner and moderators.")

    def handle(self, *args, partner: str, no_users: bool = False, **options):
        existing = Partner.objects.filter(name=partner).first()
        if existing is None:
            created = partner_create(name=partner)
            the_partner, key = created.partner, created.api_key
        else:
            the_partner, key = existing, api_key_issue(partner=existing, label="demo")
        establishments_upsert(
            partner=the_partner,
            items=[dict(zip(("external_id", "name", "kind", "city", "country"), e, strict=True))
                   for e in ESTABLISHMENTS],
        )
        results = reviews_submit(partner=the_partner, items=demo_reviews(datetime.now(UTC)))
        new = sum(1 for r in results if r.status == 201)
        self.stdout.write(
            f"Demo partner {the_partner.name!r}: {len(ESTABLISHMENTS)} establishments, "
            f"{len(results)} reviews ({new} new, {len(results) - new} already stored; the worker "
            "scores new ones once it runs)."
        )
        if not no_users:
            self.stdout.write("Demo accounts (local only: their passwords are public):")
            for email, password, group in demo_users(the_partner):
                where = "owner portal /portal/" if group is None else f"admin /admin/ ({group})"
                self.stdout.write(f"  {where:40} {email} / {password}")
        self.stdout.write("API key for the demo partner (shown once):")
        self.stdout.write(key)
