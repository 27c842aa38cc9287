"""Live detection in the scoring path: rings and bombing are caught while they happen,
their later reviews are held before publication, organic outrage is never held."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from apps.cases.models import Case
from apps.detection.live import neighbourhood_of
from apps.detection.models import TextBand
from apps.detection.services import reviews_score
from apps.establishments.models import Alert
from apps.partners.models import WebhookDelivery
from apps.reviews import pii
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, PartnerFactory, ReviewerFactory, ReviewFactory

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)
WORDS = ["room", "breakfast", "staff", "view", "pool", "noise", "bed", "shower", "price", "location", "lobby", "parking", "quiet", "terrace", "dinner", "towels", "coffee", "garden", "elevator", "balcony"]


def honest_text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(18)).capitalize() + "."


@pytest.fixture
def partner():
    return PartnerFactory(webhook_url="https://partner.example/hook")


def history(partner, establishments, rng, per_place=12):
    """Months of ordinary, published reviews by established accounts."""
    for est in establishments:
        for k in range(per_place):
            ReviewFactory(partner=partner, establishment=est, rating=rng.choice([4, 4, 5, 5, 3]),
                          text=honest_text(rng), booking_ref_hash=pii.booking_ref_hash(f"bk{est.id}-{k}"),
                          status=Review.Status.PUBLISHED,
                          created_at=NOW - timedelta(days=rng.uniform(5, 80)))


def score_one_by_one(reviews):
    for review in reviews:
        reviews_score(review_ids=[review.id])


def refreshed(reviews):
    return list(Review.objects.filter(id__in=[r.id for r in reviews]).order_by("created_at"))


def bombing(partner, target, n=10, *, hours=6, shared_device=True):
    """New accounts, no stays, near-identical one-star texts, within hours."""
    base = ("Worst hotel ever, dirty rooms, rude staff, cockroaches in the bathroom and the "
            "manager laughed at us. Avoid at all costs, total scam!")
    out = []
    for k in range(n):
        reviewer = ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=1))
        out.append(ReviewFactory(
            partner=partner, establishment=target, reviewer=reviewer, rating=1,
            text=base if k % 2 else base.replace("Avoid", "Stay away"),
            device_hash=pii.device_hash("crew-phone") if shared_device else "",
            created_at=NOW - timedelta(hours=hours - k * hours / n),
        ))
    return out


def test_later_reviews_of_a_bombing_burst_are_held_before_publication(partner):
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], random.Random(1))
    attack = bombing(partner, target)

    score_one_by_one(attack)

    statuses = [r.status for r in refreshed(attack)]
    assert statuses[-4:] == [Review.Status.HELD] * 4
    assert Review.Status.REMOVED not in statuses


def test_a_bombing_burst_is_one_bombing_case(partner):
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], random.Random(2))
    attack = bombing(partner, target)

    score_one_by_one(attack)

    case = Case.objects.get(kind=Case.Kind.REVIEW_BOMBING)
    assert {r.id for r in attack[-4:]} <= set(case.reviews.values_list("id", flat=True))
    assert not Case.objects.filter(kind=Case.Kind.ANOMALOUS_REVIEWER).exists()


def test_a_bombing_raises_the_establishment_alert_once_with_a_webhook(partner):
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], random.Random(3))

    score_one_by_one(bombing(partner, target))

    alert = Alert.objects.get(establishment=target)
    assert alert.kind == Alert.Kind.REVIEW_BOMBING and alert.ended_at is None
    assert alert.counts["reviews"] >= 5
    assert WebhookDelivery.objects.filter(event="establishment.alert").count() == 1


def established_guests(partner, target, others, rng, *, rating, about, n=12):
    """Guests who stayed, each with their own history elsewhere and their own words,
    reviewing ``target`` within a day about the same thing."""
    out = []
    for k in range(n):
        reviewer = ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=700))
        for est in others[: 1 + k % 3]:
            ReviewFactory(partner=partner, establishment=est, reviewer=reviewer, rating=4,
                          text=honest_text(rng), status=Review.Status.PUBLISHED,
                          created_at=NOW - timedelta(days=rng.uniform(100, 300)))
        out.append(ReviewFactory(
            partner=partner, establishment=target, reviewer=reviewer, rating=rating(),
            text=f"{about} {honest_text(rng)}", booking_ref_hash=pii.booking_ref_hash(f"stay-{k}"),
            device_hash=pii.device_hash(f"own-phone-{k}"),
            created_at=NOW - timedelta(hours=30 - 2 * k),
        ))
    return out


def test_organic_outrage_is_never_held(partner):
    rng = random.Random(4)
    target = EstablishmentFactory(partner=partner)
    others = [EstablishmentFactory(partner=partner) for _ in range(3)]
    history(partner, [target, *others], rng)
    angry = established_guests(partner, target, others, rng, rating=lambda: rng.choice([1, 2]),
                               about="The pool was closed all week and nobody told us.")

    score_one_by_one(angry)

    assert {r.status for r in refreshed(angry)} == {Review.Status.PUBLISHED}
    assert not Case.objects.filter(kind=Case.Kind.REVIEW_BOMBING).exists()
    assert not Alert.objects.exists()


def aged_crew(partner, target, rng, n=12, *, networks=2, reviewed_before=None):
    """Old accounts with stays and words of their own, posting from a few networks
    (``reviewed_before``: each also reviewed that establishment 200 days ago)."""
    out = []
    for k in range(n):
        reviewer = ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=900))
        if reviewed_before is not None:
            ReviewFactory(partner=partner, establishment=reviewed_before, reviewer=reviewer,
                          rating=4, text=honest_text(rng), status=Review.Status.PUBLISHED,
                          created_at=NOW - timedelta(days=200))
        ip, ip24 = pii.ip_hashes(f"198.51.{k % networks}.{10 + k}")
        out.append(ReviewFactory(
            partner=partner, establishment=target, reviewer=reviewer, rating=rng.choice([1, 2]),
            text=honest_text(rng), booking_ref_hash=pii.booking_ref_hash(f"crew-{k}"),
            ip_hash=ip, ip24_hash=ip24, created_at=NOW - timedelta(hours=30 - 2 * k),
        ))
    return out


def test_a_burst_whose_only_tell_is_its_networks_opens_a_case_and_stays_published(partner):
    rng = random.Random(12)
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], rng)
    crew = aged_crew(partner, target, rng)

    score_one_by_one(crew)

    assert {r.status for r in refreshed(crew)} == {Review.Status.PUBLISHED}
    case = Case.objects.get(kind=Case.Kind.REVIEW_BOMBING)
    assert set(case.reviews.values_list("id", flat=True)) >= {r.id for r in crew[-6:]}
    assert "burst_suspected" in {r["code"] for r in case.reasons}


def test_a_suspected_burst_raises_no_alert_for_the_owner(partner):
    rng = random.Random(13)
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], rng)

    score_one_by_one(aged_crew(partner, target, rng))

    assert not Alert.objects.exists()
    assert not WebhookDelivery.objects.filter(event="establishment.alert").exists()


def test_the_same_burst_from_networks_of_its_own_opens_no_case(partner):
    rng = random.Random(14)
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], rng)

    score_one_by_one(aged_crew(partner, target, rng, networks=12))

    assert not Case.objects.filter(kind=Case.Kind.REVIEW_BOMBING).exists()


def test_established_guests_complaining_from_a_few_networks_open_no_case(partner):
    rng = random.Random(15)
    target, elsewhere = EstablishmentFactory(partner=partner), EstablishmentFactory(partner=partner)
    history(partner, [target], rng)

    score_one_by_one(aged_crew(partner, target, rng, reviewed_before=elsewhere))

    assert not Case.objects.filter(kind=Case.Kind.REVIEW_BOMBING).exists()


def ring(partner, targets, members=6, *, device=True):
    """Sock puppets reviewing the same places in lockstep with copied praise."""
    text = ("Absolutely wonderful stay, the best breakfast in town and the staff went above "
            "and beyond, five stars without hesitation!")
    reviews = []
    accounts = [ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=3))
                for _ in range(members)]
    for day, est in enumerate(targets):
        for k, reviewer in enumerate(accounts):
            reviews.append(ReviewFactory(
                partner=partner, establishment=est, reviewer=reviewer, rating=5, text=text,
                device_hash=pii.device_hash(f"farm-{k % 2}") if device else "",
                created_at=NOW - timedelta(days=len(targets) - day, minutes=-k * 7),
            ))
    return reviews


def test_reviews_joining_an_active_ring_are_held_in_the_ring_case(partner):
    targets = [EstablishmentFactory(partner=partner) for _ in range(3)]
    # A ring is dense against the platform's own activity: give it a platform.
    elsewhere = [EstablishmentFactory(partner=partner) for _ in range(20)]
    history(partner, targets + elsewhere, random.Random(5))
    attack = ring(partner, targets)

    score_one_by_one(attack)

    last = refreshed(attack)[-6:]
    assert {r.status for r in last} == {Review.Status.HELD}
    case = Case.objects.get(kind=Case.Kind.SOCK_PUPPET_RING)
    assert {r.id for r in last} <= set(case.reviews.values_list("id", flat=True))
    assert not Case.objects.filter(kind=Case.Kind.ANOMALOUS_REVIEWER,
                                   status=Case.Status.OPEN).exists()


def test_per_reviewer_cases_opened_before_a_ring_was_seen_merge_into_it(partner):
    targets = [EstablishmentFactory(partner=partner) for _ in range(3)]
    elsewhere = [EstablishmentFactory(partner=partner) for _ in range(20)]
    history(partner, targets + elsewhere, random.Random(5))

    score_one_by_one(ring(partner, targets))

    ring_case = Case.objects.get(kind=Case.Kind.SOCK_PUPPET_RING)
    merged = Case.objects.filter(kind=Case.Kind.ANOMALOUS_REVIEWER)
    assert merged.exists()
    for case in merged:
        assert case.status == Case.Status.MERGED and case.merged_into == ring_case
        assert case.events.filter(action="merged").exists()
    assert set(ring_case.reviews.all()) >= {r for c in merged for r in c.reviews.all()}


def test_a_copied_text_is_found_through_the_band_index_however_old_the_place(partner):
    rng = random.Random(6)
    text = ("Our honeymoon suite had a private terrace over the vineyard, and the chef prepared "
            "a tasting menu with local truffles that we will never forget.")
    far_away = EstablishmentFactory(partner=partner)
    original = ReviewFactory(partner=partner, establishment=far_away, text=text, rating=5,
                             created_at=NOW - timedelta(days=40))
    reviews_score(review_ids=[original.id])
    here = EstablishmentFactory(partner=partner)
    history(partner, [here], rng)
    copy = ReviewFactory(partner=partner, establishment=here, text=text, rating=5)

    reviews_score(review_ids=[copy.id])

    copy.refresh_from_db()
    assert "near_duplicate_text" in {r["code"] for r in copy.risk_reasons}
    assert TextBand.objects.filter(review_id=copy.id).exists()


def test_the_neighbourhood_leaves_out_an_establishments_old_history(partner):
    est = EstablishmentFactory(partner=partner)
    old = ReviewFactory(partner=partner, establishment=est, created_at=NOW - timedelta(days=400))
    recent = ReviewFactory(partner=partner, establishment=est, created_at=NOW - timedelta(days=10))
    new = ReviewFactory(partner=partner, establishment=est, created_at=NOW)

    ids = neighbourhood_of(reviews=[new]).review_ids

    assert recent.id in ids and new.id in ids and old.id not in ids


def test_the_neighbourhood_reads_only_the_most_recent_reviews_of_a_busy_place(
        partner, monkeypatch):
    monkeypatch.setattr("apps.detection.live.ESTABLISHMENT_ROWS", 5)
    est = EstablishmentFactory(partner=partner)
    older = [ReviewFactory(partner=partner, establishment=est,
                           created_at=NOW - timedelta(days=20 + k)) for k in range(5)]
    latest = [ReviewFactory(partner=partner, establishment=est,
                            created_at=NOW - timedelta(days=1 + k)) for k in range(5)]
    new = ReviewFactory(partner=partner, establishment=est, created_at=NOW)

    ids = set(neighbourhood_of(reviews=[new]).review_ids)

    assert {r.id for r in latest} <= ids
    assert not {r.id for r in older} & ids


def test_past_the_cap_the_co_reviewers_sharing_the_most_places_are_read(partner, monkeypatch):
    monkeypatch.setattr("apps.detection.live.MAX_CO_REVIEWERS", 1)
    monkeypatch.setattr("apps.detection.live.ESTABLISHMENT_ROWS", 0)
    first, second = EstablishmentFactory(partner=partner), EstablishmentFactory(partner=partner)
    newcomer = ReviewerFactory(partner=partner)
    batch = [ReviewFactory(partner=partner, establishment=e, reviewer=newcomer, created_at=NOW)
             for e in (first, second)]
    both, one = ReviewerFactory(partner=partner), ReviewerFactory(partner=partner)
    on_both = [ReviewFactory(partner=partner, establishment=e, reviewer=both,
                             created_at=NOW - timedelta(days=1)) for e in (first, second)]
    on_one = ReviewFactory(partner=partner, establishment=first, reviewer=one,
                           created_at=NOW - timedelta(days=1))

    ids = set(neighbourhood_of(reviews=batch).review_ids)

    assert {r.id for r in on_both} <= ids
    assert on_one.id not in ids


def test_co_reviewers_are_looked_for_among_a_busy_places_most_recent_reviews(
        partner, monkeypatch):
    monkeypatch.setattr("apps.detection.live.CO_REVIEW_ROWS", 3)
    monkeypatch.setattr("apps.detection.live.ESTABLISHMENT_ROWS", 0)
    est = EstablishmentFactory(partner=partner)
    earlier = ReviewFactory(partner=partner, establishment=est, created_at=NOW - timedelta(days=3))
    latest = [ReviewFactory(partner=partner, establishment=est,
                            created_at=NOW - timedelta(hours=1 + k)) for k in range(3)]
    new = ReviewFactory(partner=partner, establishment=est, created_at=NOW)

    ids = set(neighbourhood_of(reviews=[new]).review_ids)

    assert {r.id for r in latest[:2]} <= ids  # the third is crowded out by the new one
    assert earlier.id not in ids


@pytest.mark.parametrize("rating,component", [(1, "review_bombing"), (5, "ring_member")],
                         ids=["complaints", "praise"])
def test_a_busy_places_usual_rate_beyond_the_rows_read_is_no_burst(
        partner, monkeypatch, rating, component):
    # Two reviews a day for 80 days, up to a week ago: eight in half a day is
    # within its usual rate, even when only the reviews of that half day are read
    # in full (and no co-reviewer of the last week brings older ones). Complaints'
    # unread times are counted from their index; praise's from the review count.
    monkeypatch.setattr("apps.detection.live.ESTABLISHMENT_ROWS", 4)
    target = EstablishmentFactory(partner=partner)
    rng = random.Random(3)
    for k in range(160):
        ReviewFactory(partner=partner, establishment=target, rating=rating,
                      text=honest_text(rng), status=Review.Status.PUBLISHED,
                      created_at=NOW - timedelta(days=8 + k / 2))
    wave = [ReviewFactory(partner=partner, establishment=target, rating=rating,
                          text=honest_text(rng), created_at=NOW - timedelta(hours=12 - k))
            for k in range(8)]

    reviews_score(review_ids=[r.id for r in wave])

    codes = {c["code"] for r in refreshed(wave) for c in r.risk_reasons}
    assert not {code for code in codes if code.startswith("burst") or code == component}


def praise_crew(partner, target, rng, n=10, *, copied=True):
    """New accounts without stays praising one place within hours."""
    base = ("Absolutely wonderful stay, the best breakfast in town and the staff went above "
            "and beyond for us. Spotless room, perfect location, five stars!")
    return [ReviewFactory(
        partner=partner, establishment=target, rating=5,
        reviewer=ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=2)),
        text=base if copied else honest_text(rng),
        created_at=NOW - timedelta(hours=10 - k)) for k in range(n)]


def test_praise_from_a_crew_of_new_accounts_on_one_place_is_held(partner):
    rng = random.Random(16)
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], rng)
    crew = praise_crew(partner, target, rng)

    score_one_by_one(crew)

    statuses = [r.status for r in refreshed(crew)]
    assert statuses[-4:] == [Review.Status.HELD] * 4


def test_a_praise_crew_is_one_ring_case_of_its_members(partner):
    rng = random.Random(17)
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], rng)
    crew = praise_crew(partner, target, rng, copied=False)

    score_one_by_one(crew)

    case = Case.objects.get(kind=Case.Kind.SOCK_PUPPET_RING)
    assert {r.reviewer_id for r in crew[-4:]} <= set(case.reviewers.values_list("id", flat=True))
    assert list(case.establishments.all()) == [target]


def test_established_guests_praising_at_once_are_published(partner):
    rng = random.Random(18)
    target = EstablishmentFactory(partner=partner)
    others = [EstablishmentFactory(partner=partner) for _ in range(3)]
    history(partner, [target, *others], rng)
    happy = established_guests(partner, target, others, rng, rating=lambda: 5,
                               about="The new spa is a delight.")

    score_one_by_one(happy)

    assert {r.status for r in refreshed(happy)} == {Review.Status.PUBLISHED}
    assert not Case.objects.exists()


def test_an_alert_ends_when_the_attack_goes_quiet_and_says_so_by_webhook(partner):
    from apps.detection.services import alerts_reconcile

    target = EstablishmentFactory(partner=partner)
    history(partner, [target], random.Random(7))
    score_one_by_one(bombing(partner, target))
    Alert.objects.update(last_seen_at=NOW - timedelta(hours=30))

    assert alerts_reconcile() == 1

    assert Alert.objects.get().ended_at is not None
    bodies = [d.payload["data"] for d in
              WebhookDelivery.objects.filter(event="establishment.alert").order_by("id")]
    assert [b["active"] for b in bodies] == [True, False]


def test_an_alert_ends_when_a_moderator_decides_its_case(partner):
    from apps.cases.services import case_decide
    from apps.detection.services import alerts_reconcile
    from tests.factories_cases import moderator

    target = EstablishmentFactory(partner=partner)
    history(partner, [target], random.Random(8))
    score_one_by_one(bombing(partner, target))
    case = Case.objects.get(kind=Case.Kind.REVIEW_BOMBING)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Coordinated crew.")

    assert alerts_reconcile() == 1


def test_the_api_shows_the_alert_on_the_establishment(partner):
    from rest_framework.test import APIClient

    from apps.partners.services import api_key_issue

    target = EstablishmentFactory(partner=partner, external_id="htl-bombed")
    history(partner, [target], random.Random(9))
    score_one_by_one(bombing(partner, target))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_issue(partner=partner)}")

    body = client.get("/api/v1/establishments/htl-bombed/", HTTP_ACCEPT_LANGUAGE="fr").json()

    assert body["alert"]["kind"] == "review_bombing"
    assert body["alert"]["counts"]["reviews"] >= 5
    assert body["alert"]["reasons"] and all(r["detail"] for r in body["alert"]["reasons"])


def test_an_honest_complaint_in_a_bombing_window_is_neither_held_nor_in_the_case(partner):
    target = EstablishmentFactory(partner=partner)
    history(partner, [target], random.Random(11))
    attack = bombing(partner, target)
    regular = ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=900))
    for k in range(3):  # a guest with a history on the platform
        ReviewFactory(partner=partner, reviewer=regular, rating=4, status=Review.Status.PUBLISHED,
                      text=honest_text(random.Random(k)),
                      created_at=NOW - timedelta(days=100 + k))
    honest = ReviewFactory(
        partner=partner, establishment=target, reviewer=regular, rating=2,
        booking_ref_hash=pii.booking_ref_hash("stay-honest"),
        text="Our room was never cleaned during the week and the lift was out of order.",
        created_at=attack[-3].created_at + timedelta(minutes=5),
    )

    score_one_by_one([*attack[:-2], honest, *attack[-2:]])

    honest.refresh_from_db()
    assert honest.status == Review.Status.PUBLISHED
    case = Case.objects.get(kind=Case.Kind.REVIEW_BOMBING)
    assert not case.reviews.filter(id=honest.id).exists()
