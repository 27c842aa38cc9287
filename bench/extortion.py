"""Extortion and false reports (issue 5): the real services on a throw-away test database.

    .venv/bin/python -m bench.extortion                 # seed 0, prints a Markdown table
    .venv/bin/python -m bench.extortion --seeds 0 1 2 --json

Seeded synthetic scenario, played in time order through the production code
paths: reviews go through ``reviews_ingest`` and the scorer (which fuses the
review's own extortion language and links it to open threat reports), threat
reports through ``threat_report_create`` and the linkage task (Celery in eager
mode), and a simulated moderator decides every extortion case three days after
it opens with ``case_decide`` (confirm if the guest really extorted, dismiss
otherwise), which is what makes owners' credibility move.

The world: two partners, 60 establishments with honest background reviews
(some negative, some mentioning a refused refund); extortion guests who threaten
and then post a low review, before or after the owner reports, identified by
e-mail, booking reference, reviewer handle or a name variant only; serial guests
threatening 2-3 establishments across both partners; dishonest owners filing
several false reports against honest, detailed critics; and a few threats
written in a review with no report at all. Issue 13 adds: guests who threaten by
phone (no transcript) and post a review with no threat words under the reported
booking reference; owners who name a real angry guest with a fabricated threat
dated before the guest's review (filed after it); guests whose name is written
in another script or with initials; honest namesakes of name-only guests
reviewing other establishments in the same weeks.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

FIRST = ["Jean", "Marie", "Hélène", "Luc", "Sophie", "Pierre", "Camille", "Nicolas", "Julie",
         "Thomas", "Claire", "Antoine", "Emma", "Louis", "Chloé", "Hugo", "Léa", "Paul",
         "James", "Sarah", "Michael", "Laura", "David", "Anna", "Mark", "Olivia", "Peter",
         "Rachel", "Daniel", "Grace"]
LAST = ["Dupont", "Lefèvre", "Martin", "Bernard", "Moreau", "Fournier", "Girard", "Rousseau",
        "Lambert", "Mercier", "Faure", "Bonnet", "François", "Chevalier", "Gauthier", "Perrin",
        "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Hughes", "Wright",
        "Green", "Baker", "Hall", "Turner", "Cooper", "Morel", "Roux", "Blanc", "Guérin"]

# (as the guest writes it on the platform, as the owner typed it in the report)
FOREIGN = [("Дмитрий Иванов", "Dmitri Ivanov"), ("Γιώργος Παπαδόπουλος", "Giorgos Papadopoulos"),
           ("Jürgen Weiß", "Juergen Weiss"), ("Søren Østergaard", "Soren Ostergaard"),
           ("Наталья Смирнова", "Natalia Smirnova"), ("Łukasz Wójcik", "Lukasz Wojcik"),
           ("Ελένη Γεωργίου", "Eleni Georgiou"), ("Sergueï Kouznetsov", "Sergey Kuznetsov")]

GOOD = [
    "Lovely stay, spotless room and a very friendly front desk.",
    "Chambre impeccable, accueil chaleureux, petit-déjeuner copieux.",
    "Great location, quiet at night, we will come back.",
    "Très bon rapport qualité-prix, personnel aux petits soins.",
    "Comfortable bed, good breakfast, helpful staff.",
    "Repas délicieux et service attentionné, une belle adresse.",
]
MEH = [
    "Fine for one night, the room was a bit small and the wifi slow.",
    "Correct sans plus, la salle de bain mériterait un rafraîchissement.",
]
HONEST_NEGATIVE = [
    "We stayed three nights. The room smelled of damp, the shower was cold every morning and "
    "the front desk shrugged when we asked to change rooms. Not worth the price.",
    "Nous avons attendu 50 minutes nos plats, qui sont arrivés froids. Le serveur ne s'est pas "
    "excusé et l'addition comportait une bouteille que nous n'avions pas commandée.",
    "I asked for a refund, they refused, so here is my review: the air conditioning never "
    "worked and the noise from the bar kept us awake until 3am.",
    "J'ai demandé un remboursement pour la chambre sale, on me l'a refusé. Je laisse donc cet "
    "avis : moquette tachée, draps douteux, personnel désagréable.",
    "Booked a sea view and got a room facing the car park. Reception said nothing could be "
    "done. Breakfast was fine but the whole stay felt like a bait and switch.",
    "Service très lent, tartare pas frais, et le responsable a haussé les épaules quand nous "
    "l'avons signalé. Dommage, le cadre est joli.",
]
THREATS = [
    ("Refund my stay or I will post a 1-star review everywhere.", "refund"),
    ("Give us a free night or else we'll leave a terrible review on every site.", "free_service"),
    ("If you don't refund me I will write a review that destroys your hotel.", "refund"),
    ("I have 50k followers. Upgrade us for free or everyone will know how bad this place is.",
     "upgrade"),
    ("Remboursez-moi la nuit, sinon je publie un avis à une étoile partout.", "refund"),
    ("Si vous ne me remboursez pas, je laisse un avis catastrophique sur tous les sites.",
     "refund"),
    ("Offrez-nous le dîner ou mon avis restera en ligne avec une étoile.", "free_service"),
    ("Je veux 200 euros, sinon tout le monde saura que votre restaurant est une arnaque.",
     "money"),
]
EXTORTION_REVIEW = [
    "Horrible place, dirty and rude staff. Avoid at all costs.",
    "Arnaque totale, personnel incompétent, à fuir absolument.",
    "Worst hotel ever. They refused a simple request. Never again.",
    "Service déplorable, direction malhonnête. Je déconseille fortement.",
    "They wouldn't refund me, so this review stays until they do. One star.",
    "Remboursez-moi et je retirerai cet avis. En attendant, une étoile.",
]
FALSE_REPORT = [
    ("This guest complained all evening and was very unpleasant with my staff.", "other"),
    ("Le client a été désagréable et a menacé de laisser un avis négatif.", "refund"),
    ("Guest wanted a discount because of noise. Clearly trying to get something.", "refund"),
    ("Ce client cherchait visiblement un geste commercial.", "free_service"),
]
TEXT_ONLY_THREAT = [
    "Refund me or this review stays. Filthy bathroom, rude night staff.",
    "Si l'hôtel ne me rembourse pas, je publie cet avis partout : chambre sale et bruyante.",
]
# Every guest writes in their own words. The fixed texts above are the gist of
# what a kind of guest writes; ``World.own_words`` frames one with a sentence or
# two of the guest's own circumstances (before and after it), so that two guests
# do not post the same paragraph word for word, which no honest population does
# (and which the scoring path rightly reads as copying). ``--template-texts``
# plays the earlier world, where they did.
OWN_BEFORE = {
    "en": ["We were there for {n} nights in {month}.", "Came for my partner's birthday.",
           "Business trip, booked through this site.", "Family of {n}, booked weeks ahead.",
           "Arrived late on a {day} after a long drive.", "Stopped by with colleagues.",
           "Our anniversary weekend, room {room}.", "Booked last minute for a wedding nearby.",
           "Travelling with two kids, {month} holidays.", "First trip to the city for us.",
           "Dinner for {n} on a {day} evening.", "A work lunch with clients on a {day}."],
    "fr": ["Séjour de {n} nuits en {month}.", "Venus pour l'anniversaire de ma femme.",
           "Déplacement professionnel, réservé sur ce site.", "Famille de {n}, réservé à l'avance.",
           "Arrivés tard un {day} après la route.", "Passés avec des collègues.",
           "Week-end d'anniversaire, chambre {room}.", "Réservé au dernier moment pour un mariage.",
           "Avec deux enfants pendant les vacances de {month}.", "Première visite dans la ville.",
           "Dîner à {n} un {day} soir.", "Déjeuner d'affaires un {day}."],
}
OWN_AFTER = {
    "en": ["Room {room}, if anyone from the hotel reads this.", "We paid {price} euros.",
           "We left a day earlier than planned.", "My {relative} agrees with every word.",
           "Table {room}, by the window.", "Booked for {n} people.", "Judge for yourselves.",
           "Visited {month} {year}.", "Written the evening we got home.", "Thanks for reading."],
    "fr": ["Chambre {room}, si la direction lit ceci.", "Nous avons payé {price} euros.",
           "Nous sommes partis un jour plus tôt.", "Mon {relative} est d'accord avec moi.",
           "Table {room}, près de la fenêtre.", "Réservation pour {n} personnes.",
           "À vous de juger.", "Visite en {month} {year}.", "Écrit le soir même du retour.",
           "Merci de m'avoir lu."],
}
_FILL = {
    "en": {"month": ["January", "March", "May", "July", "August", "October", "December"],
           "day": ["Monday", "Tuesday", "Thursday", "Friday", "Saturday", "Sunday"],
           "relative": ["wife", "husband", "sister", "brother", "mother", "colleague"]},
    "fr": {"month": ["janvier", "mars", "mai", "juillet", "août", "octobre", "décembre"],
           "day": ["lundi", "mardi", "jeudi", "vendredi", "samedi", "dimanche"],
           "relative": ["mari", "frère", "père", "collègue", "fils", "compagnon"]},
}
_FRENCH = (" le ", " la ", " les ", " je ", " nous ", " et ", "é", "è", "à ")


DAY = timedelta(days=1)


@dataclass
class Truth:
    extortion_reviews: set[str] = field(default_factory=set)  # review external ids
    honest_named: set[str] = field(default_factory=set)  # honest reviews named in false reports
    honest_refund: set[str] = field(default_factory=set)  # honest, mention a refused refund
    text_threats: set[str] = field(default_factory=set)  # threat in the review, no report
    serial_guests: dict[str, set[int]] = field(default_factory=dict)  # guest -> report ids
    true_reports: set[int] = field(default_factory=set)
    false_reports: set[int] = field(default_factory=set)
    routes: dict[str, str] = field(default_factory=dict)  # extortion review -> route
    phone_silent: set[str] = field(default_factory=set)  # phone threat, review without threat words
    fabricated: set[str] = field(default_factory=set)  # honest, named in a backdated fabricated report
    # the same, the guest's account made the day of the review
    fabricated_new_account: set[str] = field(default_factory=set)
    namesakes: set[str] = field(default_factory=set)  # honest, same name as a name-only guest
    name_only: set[str] = field(default_factory=set)  # extortion reviews findable by name only
    name_kind: dict[str, str] = field(default_factory=dict)  # name-only review -> variant kind
    orders: dict[str, str] = field(default_factory=dict)  # extortion review -> before/after


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewguard.settings_test")
    var = tempfile.mkdtemp(prefix="rg-bench-extortion-")
    os.environ["REVIEWGUARD_VAR_DIR"] = var
    os.environ["MEDIA_ROOT"] = os.path.join(var, "media")
    os.environ.pop("DATABASE_URL", None)  # SQLite, as the test suite
    import django

    django.setup()


class World:
    """Plays a seeded scenario through the services; records the ground truth."""

    def __init__(self, seed: int, simulate_filed_at: bool = False,
                 template_texts: bool = False) -> None:
        from django.contrib.auth import get_user_model

        from apps.establishments.models import Establishment, OwnerMembership
        from apps.partners.models import Partner

        self.rng = random.Random(seed)
        self.template_texts = template_texts
        # The apps pass each report's filing time (its created_at) to ml/extortion.py,
        # but here created_at is wall-clock time while the world runs on a simulated
        # clock: the bench passes the simulated filing time instead, keyed by
        # (establishment id, received_at). --no-filed-at drops it (the old apps).
        self.simulate_filed_at = simulate_filed_at
        self.filed: dict[tuple[int, float], float] = {}
        self.seed = seed
        self.truth = Truth()
        self.t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=400)
        self.partners = [Partner.objects.create(name=f"Partner {c} ({seed})") for c in "AB"]
        self.establishments = []
        self.owner_of = {}
        User = get_user_model()
        for i in range(60):
            partner = self.partners[i % 2]
            est = Establishment.objects.create(
                partner=partner, external_id=f"est-{i}", name=f"Établissement {i}",
                kind="hotel" if i % 3 else "restaurant", city="Lyon", country="FR")
            owner = User.objects.create(username=f"owner-{seed}-{i}")
            OwnerMembership.objects.create(user=owner, establishment=est)
            self.establishments.append(est)
            self.owner_of[est.id] = owner
        self.n = 0
        self.events: list[tuple[datetime, int, str, dict]] = []

    # ------------------------------------------------------------------ helpers
    def name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n}"

    def review_item(self, est, *, when, rating, text, name=None, email=None, booking=None,
                    handle=None) -> dict:
        guest = self.next_id("guest")
        return {
            "external_id": self.next_id("rv"),
            "establishment": est.external_id,
            "reviewer": {
                "external_id": guest,
                "display_name": handle or name or self.name(),
                "email": email or f"{guest}@mail.example",
                "account_created_at": when - timedelta(days=self.rng.uniform(200, 2000)),
                "ip": f"198.51.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}",
                "device_id": f"dev-{guest}",
            },
            "rating": rating,
            "title": "",
            "text": text,
            "language": "",
            "visit_date": (when - DAY).date(),
            "booking_ref": booking or f"BK{self.rng.randrange(10**7):07d}",
            "created_at": when,
        }

    def own_words(self, pool: list[str]) -> str:
        """What one guest writes: a text of ``pool`` in their own framing (as is with
        ``--template-texts``)."""
        text = self.rng.choice(pool)
        if self.template_texts:
            return text
        rng = self.rng
        lang = "fr" if sum(w in f" {text.lower()} " for w in _FRENCH) >= 2 else "en"
        values = {k: rng.choice(v) for k, v in _FILL[lang].items()}
        values.update(n=rng.randint(2, 6), room=rng.randint(3, 540), price=rng.randrange(60, 900),
                      year=rng.choice((2024, 2025, 2026)))
        before = rng.choice(OWN_BEFORE[lang]).format(**values)
        after = rng.choice(OWN_AFTER[lang]).format(**values)
        return f"{before} {text} {after}"

    def at(self, when: datetime, kind: str, **data) -> None:
        self.events.append((when, len(self.events), kind, data))

    # --------------------------------------------------------------- scenario
    def build(self) -> None:
        rng = self.rng
        # Background: 40 reviews per establishment over the first 200 days.
        background = []
        for est in self.establishments:
            for _ in range(40):
                when = self.t0 + DAY * rng.uniform(0, 200)
                roll = rng.random()
                if roll < 0.75:
                    rating, text = rng.choice((4, 5)), self.own_words(GOOD)
                elif roll < 0.9:
                    rating, text = 3, self.own_words(MEH)
                else:
                    rating, text = rng.choice((1, 2)), self.own_words(HONEST_NEGATIVE)
                background.append((est, self.review_item(est, when=when, rating=rating,
                                                         text=text)))
        self.background = background

        scenario_start = self.t0 + 210 * DAY
        busy = list(self.establishments)
        rng.shuffle(busy)

        # Extortion: threat, owner report (0-2 days later), low review (2 days before
        # the report .. 12 days after it). Identification route varies.
        routes = ["email", "booking_ref", "handle", "name", "email", "name", "booking_ref",
                  "handle", "email", "none"]
        for k in range(50):
            est = busy[k % len(busy)]
            self._extortion(est, scenario_start + DAY * rng.uniform(0, 150), routes[k % 10],
                            serial_guest=None)

        # Serial guests: one person, 2-3 establishments, both partners.
        for k in range(8):
            guest = {"name": self.name(), "email": f"serial{k}-{self.seed}@mail.example"}
            a = [e for e in busy if e.partner_id == self.partners[0].id]
            b = [e for e in busy if e.partner_id == self.partners[1].id]
            targets = [rng.choice(a), rng.choice(b)] + ([rng.choice(a + b)] if k % 2 else [])
            start = scenario_start + DAY * rng.uniform(0, 120)
            for j, est in enumerate(dict.fromkeys(targets)):
                self._extortion(est, start + DAY * (j * rng.uniform(10, 40)),
                                rng.choice(["email", "email", "booking_ref", "name"]),
                                serial_guest=guest)

        # Dishonest owners: several false reports each, against honest critics who
        # wrote a detailed negative review a few days earlier.
        for est in busy[-8:]:
            for _ in range(4):
                when = scenario_start + DAY * rng.uniform(0, 160)
                critic = self.name()
                email = f"critic-{self.next_id('c')}@mail.example"
                item = self.review_item(est, when=when, rating=rng.choice((1, 2)),
                                        text=self.own_words(HONEST_NEGATIVE), name=critic,
                                        email=email)
                self.truth.honest_named.add(item["external_id"])
                self.at(when, "review", item=item)
                # Half the time the owner reports first (the guest complained at
                # checkout); a third of the messages carry an invented threat.
                filed = when + DAY * (rng.uniform(0.5, 3) if rng.random() < 0.5
                                      else -rng.uniform(0.5, 5))
                message, demand = (rng.choice(THREATS) if rng.random() < 1 / 3
                                   else rng.choice(FALSE_REPORT))
                self.at(filed, "report", est=est, truth="false", owner=True, payload={
                    "guest": {"name": critic, "email": email},
                    "channel": "in_person", "message_text": message, "demand": demand})

        # Honest reviews mentioning a refused refund, nobody reports them.
        for _ in range(30):
            est = rng.choice(busy)
            when = scenario_start + DAY * rng.uniform(0, 160)
            item = self.review_item(est, when=when, rating=2, text=self.own_words(HONEST_NEGATIVE[2:4]))
            self.truth.honest_refund.add(item["external_id"])
            self.at(when, "review", item=item)

        # Threat written in the review, no report.
        for _ in range(10):
            est = rng.choice(busy)
            when = scenario_start + DAY * rng.uniform(0, 160)
            item = self.review_item(est, when=when, rating=1, text=self.own_words(TEXT_ONLY_THREAT))
            self.truth.text_threats.add(item["external_id"])
            self.at(when, "review", item=item)

        # Issue 13. Phone threats: no transcript; the review, days later, has no
        # threat words and carries the booking reference the owner reported.
        for _ in range(8):
            est = rng.choice(busy[:50])
            threat_at = scenario_start + DAY * rng.uniform(0, 150)
            booking = f"BK{rng.randrange(10**7):07d}"
            name = self.name()
            reported_at = threat_at + DAY * rng.uniform(0, 1)
            review_at = threat_at + DAY * rng.uniform(0.5, 10)
            item = self.review_item(est, when=review_at, rating=rng.choice((1, 2)),
                                    text=self.own_words(EXTORTION_REVIEW[:4]), name=name,
                                    booking=booking)
            rid = item["external_id"]
            self.truth.extortion_reviews.add(rid)
            self.truth.phone_silent.add(rid)
            self.truth.routes[rid] = "booking_ref"
            self.truth.orders[rid] = "before" if review_at < reported_at else "after"
            self.at(review_at, "review", item=item)
            self.at(reported_at, "report", est=est, truth="true", owner=rng.random() < 0.5,
                    payload={"guest": {"booking_ref": booking.lower()}, "channel": "phone",
                             "message_text": "", "demand": "refund", "received_at": threat_at})

        # Issue 13. An owner names a real angry guest (e-mail and name from the booking)
        # with a fabricated threat dated 1-3 days before the guest's honest review, and
        # files it after reading the review. Other owners than the ones above.
        for est in busy[-16:-8]:
            self._fabricated_threat(est, scenario_start, self.truth.fabricated)
        self._fabricated_against_new_accounts(busy[-24:-16], scenario_start)
        self.events.sort(key=lambda e: (e[0], e[1]))

    def _fabricated_threat(self, est, scenario_start, truth: set[str], *,
                           new_account: bool = False) -> None:
        rng = self.rng
        when = scenario_start + DAY * rng.uniform(0, 160)
        critic = self.name()
        email = f"critic-{self.next_id('c')}@mail.example"
        item = self.review_item(est, when=when, rating=rng.choice((1, 2)),
                                text=self.own_words(HONEST_NEGATIVE), name=critic, email=email)
        if new_account:
            item["reviewer"]["account_created_at"] = when - timedelta(minutes=rng.uniform(5, 120))
        truth.add(item["external_id"])
        self.at(when, "review", item=item)
        message, demand = rng.choice(THREATS)
        self.at(when + DAY * rng.uniform(0.5, 3), "report", est=est, truth="false",
                owner=True, payload={
                    "guest": {"name": critic, "email": email},
                    "channel": rng.choice(["phone", "email"]), "message_text": message,
                    "demand": demand, "received_at": when - DAY * rng.uniform(1, 3)})

    def _fabricated_against_new_accounts(self, establishments, scenario_start) -> None:
        """The same fabrication against a guest whose account is new (made the day of
        the review, as platforms that open one with the first review do): a threat
        dated before the review then also makes "the account came after the threat"
        look true. Drawn from a generator of its own, so the rest of the world is
        the one earlier runs played."""
        world_rng, self.rng = self.rng, random.Random(self.seed * 7919 + 13)
        try:
            for est in establishments:
                self._fabricated_threat(est, scenario_start, self.truth.fabricated_new_account,
                                        new_account=True)
        finally:
            self.rng = world_rng

    def _extortion(self, est, threat_at, route, *, serial_guest) -> None:
        rng = self.rng
        name = serial_guest["name"] if serial_guest else self.name()
        written = None  # how the owner writes the name, when it is not a variant of it
        if route == "name" and not serial_guest and rng.random() < 0.25:
            name, written = rng.choice(FOREIGN)  # the platform shows the native script
        email = serial_guest["email"] if serial_guest else f"x{self.next_id('g')}@mail.example"
        booking = f"BK{rng.randrange(10**7):07d}"
        handle = f"{name.split()[0].lower()}{rng.randrange(10, 99)}"
        reported_at = threat_at + DAY * rng.uniform(0, 2)
        review_at = reported_at + DAY * rng.uniform(-2, 12)
        if route == "none":  # a pseudonymous account under another e-mail: not findable
            item = self.review_item(est, when=review_at, rating=1,
                                    text=self.own_words(EXTORTION_REVIEW),
                                    handle=f"traveller{rng.randrange(1000, 9999)}")
        else:
            item = self.review_item(
                est, when=review_at, rating=rng.choice((1, 1, 2)),
                text=self.own_words(EXTORTION_REVIEW), name=name, email=email, booking=booking,
                handle=handle if route == "handle" else (
                    name if route == "name" else f"{name.split()[0]} {name.split()[1][0]}."),
            )
            if route == "name" and not serial_guest:
                # An honest namesake reviews another establishment in the same weeks.
                other = rng.choice([e for e in self.establishments if e.id != est.id])
                twin = self.review_item(other, when=review_at + DAY * rng.uniform(-10, 10),
                                        rating=2, text=self.own_words(HONEST_NEGATIVE), name=name)
                self.truth.namesakes.add(twin["external_id"])
                self.at(twin["created_at"], "review", item=twin)
        self.truth.extortion_reviews.add(item["external_id"])
        self.truth.routes[item["external_id"]] = route
        self.truth.orders[item["external_id"]] = "before" if review_at < reported_at else "after"
        self.at(review_at, "review", item=item)
        guest = {"name": "", "email": "", "booking_ref": "", "reviewer_handle": ""}
        if route in ("email", "none"):
            guest.update(email=email.upper())
        elif route == "booking_ref":
            guest.update(booking_ref=booking.lower())
        elif route == "handle":
            guest.update(reviewer_handle=handle)
        if route in ("name", "none") or serial_guest or rng.random() < 0.5:
            kind, guest["name"] = ("other_script", written) if written else _variant(rng, name)
            if route == "name":
                self.truth.name_only.add(item["external_id"])
                self.truth.name_kind[item["external_id"]] = kind
        message, demand = rng.choice(THREATS)
        self.at(reported_at, "report", est=est, truth="true", owner=rng.random() < 0.5,
                serial=serial_guest["email"] if serial_guest else None, payload={
                    "guest": guest, "channel": rng.choice(["email", "phone", "in_person",
                                                           "platform_message"]),
                    "message_text": message, "demand": demand, "received_at": threat_at})

    # ------------------------------------------------------------------- play
    def play(self) -> dict:
        from apps.cases.models import Case
        from apps.cases.services import case_decide
        from apps.detection.services import reviews_submit as reviews_ingest
        from apps.detection.services import threat_report_submit as threat_report_create
        from apps.reports.models import ThreatReport

        self._record_holds()
        by_partner = defaultdict(list)
        for est, item in self.background:
            by_partner[est.partner].append(item)
        for partner, items in by_partner.items():
            for start in range(0, len(items), 500):
                reviews_ingest(partner=partner, items=items[start:start + 500])

        case_seen: dict[int, datetime] = {}
        decisions = {"confirmed": 0, "dismissed": 0}
        for when, _, kind, data in self.events:
            self._decide_due(when, case_seen, decisions, Case, ThreatReport, case_decide)
            if kind == "review":
                est = next(e for e in self.establishments
                           if e.external_id == data["item"]["establishment"])
                reviews_ingest(partner=est.partner, items=[data["item"]])
            else:
                est = data["est"]
                payload = {**data["payload"]}
                payload.setdefault("received_at", when)
                payload["guest"] = {k: payload["guest"].get(k, "") for k in
                                    ("name", "email", "booking_ref", "reviewer_handle")}
                self.filed[(est.id, round(payload["received_at"].timestamp(), 3))] = (
                    when.timestamp()
                )
                # Celery is eager: the linkage task runs when the report commits.
                report = threat_report_create(
                    partner=est.partner, establishment=est, payload=payload,
                    reporter=self.owner_of[est.id] if data["owner"] else None)
                (self.truth.true_reports if data["truth"] == "true"
                 else self.truth.false_reports).add(report.id)
                if data.get("serial"):
                    self.truth.serial_guests.setdefault(data["serial"], set()).add(report.id)
            for case_id in Case.objects.filter(kind=Case.Kind.EXTORTION).exclude(
                    id__in=list(case_seen)).values_list("id", flat=True):
                case_seen[case_id] = when
        self._decide_due(datetime.max.replace(tzinfo=UTC), case_seen, decisions, Case,
                         ThreatReport, case_decide)
        return decisions

    def _record_holds(self) -> None:
        """Remember why ml/extortion.py decided each hold (its ``hold_reasons``), by
        review id: read-only instrumentation of the linkage service."""
        import apps.detection.linkage as services

        self.hold_codes: dict[int, list[str]] = {}
        apply = services._apply

        def recording(reports, inputs, serial, scores, credibility, deferred):
            why = getattr(scores, "hold_reasons", None)
            for rev in scores.hold.nonzero()[0].tolist():
                codes = [e.code for e in why[rev]] if why is not None else ["(no reasons)"]
                self.hold_codes.setdefault(int(inputs.frame.review_ids[rev]), codes)
            return apply(reports, inputs, serial, scores, credibility, deferred)

        services._apply = recording
        from dataclasses import replace

        import numpy as np

        score = services.score_extortion

        def with_filed_at(report_cols, *args, **kwargs):
            filed = None
            if self.simulate_filed_at:
                filed = np.array([
                    self.filed.get((int(e), round(float(t), 3)), np.nan)
                    for e, t in zip(report_cols.establishment, report_cols.received_at,
                                    strict=True)
                ])
            return score(replace(report_cols, filed_at=filed), *args, **kwargs)

        services.score_extortion = with_filed_at

    def _decide_due(self, now, case_seen, decisions, Case, ThreatReport, case_decide) -> None:
        """The moderator decides each extortion case three days after it opened."""
        due = [cid for cid, opened in case_seen.items() if opened + 3 * DAY <= now]
        for case in Case.objects.filter(id__in=due, status=Case.Status.OPEN):
            report_ids = set(case.threat_reports.values_list("id", flat=True))
            reviews = set(case.reviews.values_list("external_id", flat=True))
            true = bool(report_ids & self.truth.true_reports) or bool(
                reviews & (self.truth.extortion_reviews | self.truth.text_threats))
            decision = "confirmed" if true else "dismissed"
            case_decide(case=case, decision=decision, actor=None,
                        note="bench: ground truth of the scenario")
            decisions[decision] += 1


def _variant(rng: random.Random, name: str) -> tuple[str, str]:
    """How an owner may write a guest's name (kind, text): order, case, accents,
    typo, initials."""
    from ml.text import fold

    first, last = name.split()
    typo = last[:-1] + ("d" if last[-1] != "d" else "t")  # Dupont -> Dupond
    return rng.choice([
        ("swapped", f"{last.upper()} {first}"), ("no_accents", fold(name)),
        ("same", f"{first} {last}"), ("upper", name.upper()), ("typo", f"{first} {typo}"),
        ("initial", f"{first[0]}. {last}"), ("initial_swapped", f"{last.upper()}, {first[0]}."),
        ("typo_swapped_no_accents", f"{typo.lower()} {fold(first)}"),
    ])


def measure(world: World) -> dict:
    from apps.cases.models import Case
    from apps.reports.models import ReportReviewLink
    from apps.reviews.models import Review

    truth = world.truth
    status = dict(Review.objects.values_list("external_id", "status"))
    held_by_report = set(
        ReportReviewLink.objects.filter(held=True).values_list("review__external_id", flat=True))
    in_extortion_cases = set(
        Review.objects.filter(cases__kind=Case.Kind.EXTORTION).values_list("external_id",
                                                                            flat=True))
    # Caught: held because of a report, or kept out of sight (held, then removed on a
    # confirmed case) as a member of an extortion case.
    caught = held_by_report | {x for x in in_extortion_cases if status[x] in ("held", "removed")}
    ever_held = caught | {x for x, s in status.items() if s in ("held", "removed")}

    ext = truth.extortion_reviews
    tp = len(ext & caught)
    precision = tp / len(caught) if caught else 1.0
    recall = tp / len(ext) if ext else 1.0

    def by(attr: dict, value: str) -> str:
        group = {x for x in ext if attr[x] == value}
        return f"{len(group & caught)}/{len(group)}"

    serial_cases = []
    for report_ids in truth.serial_guests.values():
        serial_cases.append(
            Case.objects.filter(kind=Case.Kind.EXTORTION, threat_reports__id__in=report_ids)
            .distinct().count())
    honest = truth.honest_named
    # Issue 13: every hold, whatever held it (a report, or the review's own risk), at
    # any time in the run: held by a report (the link keeps the flag after a
    # dismissal) or held/removed at the end. A threat in a review's own text is
    # extortion too, so it counts as a true hold.
    held_any = held_by_report | {x for x, s in status.items() if s in ("held", "removed")}
    positives = ext | truth.text_threats
    linked_true = set(
        ReportReviewLink.objects.filter(report_id__in=truth.true_reports)
        .values_list("review__external_id", flat=True))
    linked_any = set(ReportReviewLink.objects.values_list("review__external_id", flat=True))
    ext_of_id = dict(Review.objects.values_list("id", "external_id"))
    why = {ext_of_id[i]: codes for i, codes in world.hold_codes.items()}
    wrongly_held = sorted(held_any - positives)
    kinds = sorted(set(truth.name_kind.values()))
    return {
        "holds": len(held_any),
        "precision_of_holds": round(len(held_any & positives) / len(held_any), 4)
        if held_any else 1.0,
        "recall_of_holds": round(len(ext & held_any) / len(ext), 4) if ext else 1.0,
        "extortion_missed": len(ext - held_any),
        "missed_by_route": {r: sum(truth.routes[x] == r for x in ext - held_any)
                            for r in ("email", "booking_ref", "handle", "name", "none")},
        "missed_why": sorted(" ".join(why.get(x, ["(no hold decided)"])[:1]) for x in
                             ext - held_any),
        "honest_held": len(wrongly_held),
        "honest_held_corroborated_by": sorted(
            ("+".join(why[x][1:]) or "(nothing)") if x in why else "(held by risk, not a report)"
            for x in wrongly_held),
        "phone_silent_held": f"{len(truth.phone_silent & held_any)}/{len(truth.phone_silent)}",
        "fabricated_held": f"{len(truth.fabricated & held_any)}/{len(truth.fabricated)}",
        "fabricated_new_account_held": f"{len(truth.fabricated_new_account & held_any)}/"
                                       f"{len(truth.fabricated_new_account)}",
        "false_report_named_held_ever": f"{len(honest & held_any)}/{len(honest)}",
        "name_only_linked": f"{len(truth.name_only & linked_true)}/{len(truth.name_only)}",
        "name_only_link_recall": round(len(truth.name_only & linked_true) / len(truth.name_only), 4)
        if truth.name_only else 1.0,
        "name_only_linked_by_kind": {
            k: f"{sum(truth.name_kind[x] == k for x in truth.name_only & linked_true)}/"
               f"{sum(truth.name_kind[x] == k for x in truth.name_only)}" for k in kinds},
        "namesakes_linked": f"{len(truth.namesakes & linked_any)}/{len(truth.namesakes)}",
        "namesakes_held": f"{len(truth.namesakes & held_any)}/{len(truth.namesakes)}",
        "seed": world.seed,
        "extortion_reviews": len(ext),
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "caught": len(caught),
        "recall_by_route": {r: by(truth.routes, r) for r in ("email", "booking_ref", "handle",
                                                               "name", "none")},
        "recall_by_order": {o: by(truth.orders, o) for o in ("before", "after")},
        "extortion_removed_after_confirm": sum(status[x] == "removed" for x in ext),
        "serial_guests": len(serial_cases),
        "serial_cases_per_guest": serial_cases,
        "false_reports": len(truth.false_reports),
        "honest_named_in_false_reports": len(honest),
        "honest_named_held_or_removed_final": sum(status[x] in ("held", "removed")
                                                  for x in honest),
        "honest_named_held_before_dismissal": len(honest & held_by_report),
        "other_reviews_held_or_removed_final": sum(
            s in ("held", "removed") for x, s in status.items()
            if x not in ext and x not in truth.text_threats),
        "reviews_total": len(status),
        "honest_refund_reviews": len(truth.honest_refund),
        "honest_refund_held_or_removed": sum(x in ever_held for x in truth.honest_refund),
        "text_only_threats": len(truth.text_threats),
        # Held by the text's own cue, then removed when the moderator confirms.
        "text_only_threats_held": sum(status[x] in ("held", "removed") for x in truth.text_threats),
    }


def run(seed: int, simulate_filed_at: bool = False, template_texts: bool = False) -> dict:
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from reviewguard.celery import app

    app.conf.task_always_eager = True
    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        world = World(seed, simulate_filed_at, template_texts)
        world.build()
        decisions = world.play()
        result = measure(world)
        result["moderator_decisions"] = decisions
        result["seconds"] = round(time.perf_counter() - started, 1)
        result["simulated_filed_at"] = simulate_filed_at
        result["template_texts"] = template_texts
        return result
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
        teardown_test_environment()


def markdown(results: list[dict]) -> str:
    rows = [
        ("Holds, whatever held them", lambda r: f"{r['holds']}"),
        ("Precision of holds (extortion or threat in the review / all holds)", lambda r: f"{r['precision_of_holds']:.3f}"),
        ("Recall of holds (extortion reviews held at some point)", lambda r: f"{r['recall_of_holds']:.3f} ({r['extortion_reviews'] - r['extortion_missed']}/{r['extortion_reviews']})"),
        ("Missed extortion by route: e-mail / booking / handle / name / untraceable", lambda r: " / ".join(str(v) for v in r["missed_by_route"].values())),
        ("Honest reviews held, and what corroborated the report", lambda r: f"{r['honest_held']} {r['honest_held_corroborated_by']}"),
        ("Phone threat, review without threat words, held", lambda r: r["phone_silent_held"]),
        ("Fabricated backdated threat naming an angry guest: honest review held", lambda r: r["fabricated_held"]),
        ("... the same against a guest whose account is new: held", lambda r: r["fabricated_new_account_held"]),
        ("Honest reviews named in false reports: ever held", lambda r: r["false_report_named_held_ever"]),
        ("Name-only guests: review linked to the report (recall)", lambda r: f"{r['name_only_link_recall']:.3f} ({r['name_only_linked']})"),
        ("... by name variant", lambda r: ", ".join(f"{k} {v}" for k, v in r["name_only_linked_by_kind"].items())),
        ("Honest namesakes at other establishments: linked / held", lambda r: f"{r['namesakes_linked']} / {r['namesakes_held']}"),
        ("Extortion reviews held (recall)", lambda r: f"{r['recall']:.3f} ({round(r['recall'] * r['extortion_reviews'])}/{r['extortion_reviews']})"),
        ("Reviews held or removed via reports that are extortion (precision)", lambda r: f"{r['precision']:.3f} (of {r['caught']})"),
        ("Recall by route: e-mail / booking / handle / name / untraceable account", lambda r: " / ".join(r["recall_by_route"].values())),
        ("Recall by order: review before / after the report", lambda r: " / ".join(r["recall_by_order"].values())),
        ("Serial guests -> extortion cases each", lambda r: f"{r['serial_guests']} -> {r['serial_cases_per_guest']}"),
        ("Honest reviews named in false reports: held or removed at the end (goal 0)", lambda r: f"{r['honest_named_held_or_removed_final']}/{r['honest_named_in_false_reports']}"),
        ("... held for a while, until the moderator dismissed the report", lambda r: f"{r['honest_named_held_before_dismissal']}/{r['honest_named_in_false_reports']}"),
        ("Any other review held or removed at the end", lambda r: f"{r['other_reviews_held_or_removed_final']}/{r['reviews_total'] - r['extortion_reviews'] - r['text_only_threats']}"),
        ("Honest reviews mentioning a refused refund, held or removed", lambda r: f"{r['honest_refund_held_or_removed']}/{r['honest_refund_reviews']}"),
        ("Threat in review text, no report: held by risk alone (or removed once confirmed)", lambda r: f"{r['text_only_threats_held']}/{r['text_only_threats']}"),
        ("Moderator decisions (confirmed / dismissed)", lambda r: f"{r['moderator_decisions']['confirmed']} / {r['moderator_decisions']['dismissed']}"),
        ("Run time (s)", lambda r: f"{r['seconds']}"),
    ]
    head = "| measure | " + " | ".join(f"seed {r['seed']}" for r in results) + " |"
    sep = "| --- | " + " | ".join("---" for _ in results) + " |"
    body = ["| " + name + " | " + " | ".join(fmt(r) for r in results) + " |" for name, fmt in rows]
    return "\n".join([head, sep, *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per seed")
    parser.add_argument(
        "--simulate-filed-at", action=argparse.BooleanOptionalAction, default=True,
        help="give ml/extortion.py each report's filing time on the simulated clock, as the "
        "apps do on the real one (default); --no-simulate-filed-at: none at all")
    parser.add_argument(
        "--template-texts", action="store_true",
        help="guests post the fixed texts word for word, as in the earlier world (default: "
        "each frames them in their own words)")
    args = parser.parse_args(argv)
    extra = ["--simulate-filed-at"] if args.simulate_filed_at else ["--no-simulate-filed-at"]
    extra += ["--template-texts"] if args.template_texts else []
    if len(args.seeds) > 1:
        # One process per seed: each gets a database of its own, nothing leaks between runs.
        import subprocess

        results = []
        for seed in args.seeds:
            out = subprocess.run(
                [sys.executable, "-m", "bench.extortion", "--seeds", str(seed), "--json", *extra],
                check=True, capture_output=True, text=True,
            ).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    else:
        _setup_django()
        import logging

        logging.disable(logging.WARNING)
        results = [run(args.seeds[0], args.simulate_filed_at, args.template_texts)]
    if args.json:
        for result in results:
            print(json.dumps(result))
    else:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
