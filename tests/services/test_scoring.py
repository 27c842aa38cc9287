"""Per-review scoring: publish or hold from behaviour, idempotent, holds open cases."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.cases.models import Case
from apps.detection.services import reviews_score, reviews_score_isolating
from apps.detection.tasks import sweep_pending_reviews_task as sweep_pending_reviews
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, PartnerFactory, ReviewerFactory, ReviewFactory

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def _burst_reviews(partner, n=5):
    """A day-old account posting one-star reviews everywhere within hours."""
    reviewer = ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(hours=20))
    reviews = []
    for k in range(n):
        est = EstablishmentFactory(partner=partner)
        for j in range(4):  # everyone else loves the place
            ReviewFactory(partner=partner, establishment=est, rating=5, status=Review.Status.PUBLISHED,
                          created_at=NOW - timedelta(days=30 + j))
        reviews.append(ReviewFactory(partner=partner, establishment=est, reviewer=reviewer, rating=1,
                                     created_at=NOW - timedelta(hours=10 - k)))
    return reviews


def test_ordinary_review_is_published():
    review = ReviewFactory(rating=4, booking_ref_hash="abc")
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert 0 <= review.risk_score < 0.3


def test_burst_of_a_new_account_is_held_with_reasons():
    reviews = _burst_reviews(PartnerFactory())
    outcome = reviews_score(review_ids=[r.id for r in reviews])
    assert outcome.held == 5
    codes = {r["code"] for r in Review.objects.get(id=reviews[0].id).risk_reasons}
    assert {"new_account", "review_burst", "rating_deviation"} <= codes


def test_honest_first_one_star_review_alone_is_published():
    partner = PartnerFactory()
    est = EstablishmentFactory(partner=partner)
    for _ in range(5):
        ReviewFactory(partner=partner, establishment=est, rating=5, status=Review.Status.PUBLISHED)
    angry = ReviewFactory(partner=partner, establishment=est, rating=1,
                          reviewer=ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=1)))
    reviews_score(review_ids=[angry.id])
    angry.refresh_from_db()
    assert angry.status == Review.Status.PUBLISHED


def test_partner_threshold_overrides_the_default():
    review = ReviewFactory(partner=PartnerFactory(hold_threshold=0.0))
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.status == Review.Status.HELD


def test_scoring_twice_changes_nothing_the_second_time():
    review = ReviewFactory()
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    first = (review.status, review.scored_at)
    assert reviews_score(review_ids=[review.id]).scored == 0
    review.refresh_from_db()
    assert (review.status, review.scored_at) == first


def test_held_reviews_of_one_reviewer_share_one_case():
    reviews = _burst_reviews(PartnerFactory())
    reviews_score(review_ids=[r.id for r in reviews[:2]])
    reviews_score(review_ids=[r.id for r in reviews[2:]])
    case = Case.objects.get()
    assert case.kind == Case.Kind.ANOMALOUS_REVIEWER
    assert case.reviews.count() == 5


def test_status_change_is_owed_to_the_partner_as_a_webhook():
    review = ReviewFactory(partner=PartnerFactory(webhook_url="http://127.0.0.1:9/hook"))
    reviews_score(review_ids=[review.id])
    delivery = review.partner.deliveries.get(event="review.status_changed")
    assert delivery.payload["data"]["status"] == "published"
    assert delivery.payload["data"]["previous_status"] == "pending"


def test_sweep_picks_up_reviews_never_enqueued(django_capture_on_commit_callbacks, monkeypatch):
    review = ReviewFactory(enqueued_at=None)
    sent = []
    monkeypatch.setattr("apps.detection.tasks.score_reviews_task.delay", lambda ids: sent.append(ids))
    assert sweep_pending_reviews(older_than_seconds=60) == 1
    assert sent == [[review.id]]


def test_sweep_leaves_recently_enqueued_reviews_alone(monkeypatch):
    # Now, not the module's NOW: that is as old as the test session.
    ReviewFactory(enqueued_at=datetime.now(UTC))
    monkeypatch.setattr("apps.detection.tasks.score_reviews_task.delay", lambda ids: None)
    assert sweep_pending_reviews(older_than_seconds=60) == 0


def test_missing_language_is_guessed_from_the_text():
    review = ReviewFactory(language="", text="La chambre était sale et le personnel très désagréable.")
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.language == "fr"


def test_given_language_is_kept():
    review = ReviewFactory(language="en", text="La chambre était sale.")
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.language == "en"


COPIED = (
    "Worst hotel in town, the staff were rude, the room was dirty and the breakfast was cold. "
    "Avoid at all costs!"
)


def test_text_copied_from_another_reviewer_is_a_reason():
    partner = PartnerFactory()
    est = EstablishmentFactory(partner=partner)
    ReviewFactory(partner=partner, establishment=est, text=COPIED, status=Review.Status.PUBLISHED)
    copy = ReviewFactory(partner=partner, establishment=est, text=COPIED.replace("town", "the city"))
    reviews_score(review_ids=[copy.id])
    copy.refresh_from_db()
    assert "near_duplicate_text" in {r["code"] for r in copy.risk_reasons}


def test_same_reviewer_repeating_themself_is_not_a_copy():
    partner = PartnerFactory()
    est = EstablishmentFactory(partner=partner)
    reviewer = ReviewerFactory(partner=partner)
    ReviewFactory(partner=partner, establishment=est, reviewer=reviewer, text=COPIED,
                  status=Review.Status.PUBLISHED)
    again = ReviewFactory(partner=partner, establishment=est, reviewer=reviewer, text=COPIED)
    reviews_score(review_ids=[again.id])
    again.refresh_from_db()
    assert "near_duplicate_text" not in {r["code"] for r in again.risk_reasons}


def test_short_common_phrases_are_not_copies():
    partner = PartnerFactory()
    est = EstablishmentFactory(partner=partner)
    ReviewFactory(partner=partner, establishment=est, text="Great stay, thank you!",
                  status=Review.Status.PUBLISHED)
    same = ReviewFactory(partner=partner, establishment=est, text="Great stay, thank you!")
    reviews_score(review_ids=[same.id])
    same.refresh_from_db()
    assert "near_duplicate_text" not in {r["code"] for r in same.risk_reasons}


def _posted_on_two_platforms(*, same_email: bool) -> list[Review]:
    """One honest one-star review, written word for word on two partners' pages of
    places everyone else loves; the guest's e-mail the same on both, or not."""
    posted = []
    for k in range(2):
        partner = PartnerFactory()
        est = EstablishmentFactory(partner=partner)
        for j in range(20):
            ReviewFactory(partner=partner, establishment=est, rating=5, text=f"Lovely stay {j}.",
                          status=Review.Status.PUBLISHED, created_at=NOW - timedelta(days=30 + j))
        guest = ReviewerFactory(partner=partner,
                                email_hash="e" * 64 if same_email else str(k) * 64)
        posted.append(ReviewFactory(partner=partner, establishment=est, reviewer=guest, rating=1,
                                    text=COPIED, created_at=NOW - timedelta(hours=3 - k)))
    reviews_score(review_ids=[r.id for r in posted])
    for review in posted:
        review.refresh_from_db()
    return posted


def test_a_guest_posting_the_same_complaint_on_two_platforms_is_published_on_both():
    posted = _posted_on_two_platforms(same_email=True)
    assert [r.status for r in posted] == [Review.Status.PUBLISHED] * 2
    codes = {r["code"] for review in posted for r in review.risk_reasons}
    assert not codes & {"shared_email", "near_duplicate_text"}


def test_a_copy_on_another_platform_under_another_email_counts_half():
    posted = _posted_on_two_platforms(same_email=False)
    copied = [r["score"] for review in posted for r in review.risk_reasons
              if r["code"] == "near_duplicate_text"]
    assert copied == [0.5, 0.5]


def test_review_that_itself_demands_a_refund_under_threat_is_held():
    review = ReviewFactory(text="Refund my stay or I will post this everywhere, I have 50k followers.",
                           booking_ref_hash="abc")
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.status == Review.Status.HELD
    assert review.risk_reasons[0]["code"] == "extortion_text"


@pytest.mark.parametrize(
    "text",
    [
        "Pas de remboursement = avis 1 étoile sur Booking, Google et TripAdvisor.",
        "Disgusting. The video of the rat in the dining room goes on Facebook tomorrow morning "
        "unless I get a call and a refund tonight.",
    ],
)
def test_blackmail_in_a_word_order_no_phrase_pattern_lists_is_held(text):
    review = ReviewFactory(text=text, booking_ref_hash="abc")
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.status == Review.Status.HELD
    assert review.risk_reasons[0]["code"] == "extortion_text"


def test_a_guest_reporting_the_owners_offer_to_buy_the_review_is_published():
    review = ReviewFactory(rating=1, booking_ref_hash="abc",
                           text="The owner offered us a free dinner if we deleted this review. "
                                "We refused, and here it is.")
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED


def test_complaint_about_a_refused_refund_is_published():
    review = ReviewFactory(rating=1, booking_ref_hash="abc",
                           text="I asked for a refund, they refused, so here is my honest review.")
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED


def test_copy_among_the_recent_reviews_of_a_busy_place_is_still_found(settings):
    from apps.detection import services

    partner = PartnerFactory()
    est = EstablishmentFactory(partner=partner)
    for k in range(services.DUPLICATE_CONTEXT_ROWS + 20):  # old history beyond the window
        ReviewFactory(partner=partner, establishment=est, status=Review.Status.PUBLISHED,
                      text=f"Stay number {k}: the breakfast room was lovely and the bed was firm.",
                      created_at=NOW - timedelta(days=400 - k * 0.5))
    ReviewFactory(partner=partner, establishment=est, text=COPIED, status=Review.Status.PUBLISHED,
                  created_at=NOW - timedelta(hours=3))
    copy = ReviewFactory(partner=partner, establishment=est, text=COPIED, created_at=NOW)
    reviews_score(review_ids=[copy.id])
    copy.refresh_from_db()
    assert "near_duplicate_text" in {r["code"] for r in copy.risk_reasons}


def test_a_top_ranked_anomalous_reviewer_adds_the_anomaly_rank_reason():
    review = ReviewFactory(rating=4, booking_ref_hash="abc")
    review.reviewer.anomaly_rank = 0.999
    review.reviewer.save()
    reviews_score(review_ids=[review.id])
    review.refresh_from_db()
    assert "anomaly_rank" in {r["code"] for r in review.risk_reasons}


def test_under_a_backlog_the_sweep_leaves_queued_reviews_alone(monkeypatch):
    queued = ReviewFactory(enqueued_at=NOW - timedelta(hours=1))
    lost = ReviewFactory(enqueued_at=None)
    sent = []
    monkeypatch.setattr("apps.detection.tasks.scoring_queue_depth", lambda: 35_000)
    monkeypatch.setattr("apps.detection.tasks.score_reviews_task.delay", sent.append)
    assert sweep_pending_reviews(older_than_seconds=60) == 1
    assert sent == [[lost.id]] and queued.id not in sent[0]


def test_with_an_empty_queue_the_sweep_re_enqueues_what_waited_too_long(monkeypatch):
    waited = ReviewFactory(enqueued_at=NOW - timedelta(hours=1))
    sent = []
    monkeypatch.setattr("apps.detection.tasks.scoring_queue_depth", lambda: 0)
    monkeypatch.setattr("apps.detection.tasks.score_reviews_task.delay", sent.append)
    assert sweep_pending_reviews(older_than_seconds=60) == 1
    assert sent == [[waited.id]]


def test_the_scoring_queue_depth_is_read_from_a_real_broker(settings):
    from apps.detection.services import scoring_queue_depth

    if settings.CELERY_BROKER_URL.startswith(("filesystem://", "memory://")):
        pytest.skip("the embedded broker cannot count its messages")
    depth = scoring_queue_depth()
    assert isinstance(depth, int) and depth >= 0


def test_a_review_that_itself_threatens_opens_an_extortion_case():
    review = ReviewFactory(text="Refund my stay or I will post this everywhere, I have 50k followers.",
                           booking_ref_hash="abc")
    reviews_score(review_ids=[review.id])
    case = Case.objects.get()
    assert case.kind == Case.Kind.EXTORTION
    assert list(case.reviews.all()) == [review]


def test_a_batch_takes_other_waiting_reviews_up_to_the_fill_size(settings):
    settings.SCORING_FILL_SIZE = 3
    settings.SCORING_FILL_AFTER_SECONDS = 0
    mine = ReviewFactory()
    ReviewFactory.create_batch(3)

    outcome = reviews_score_isolating(review_ids=[mine.id])

    assert outcome.scored == 3
    assert Review.objects.filter(status=Review.Status.PENDING).count() == 1


def test_a_batch_leaves_backfilled_failed_and_dead_lettered_reviews_alone(settings):
    settings.SCORING_FILL_AFTER_SECONDS = 0
    mine = ReviewFactory()
    ReviewFactory(historical=True)
    ReviewFactory(scoring_attempts=1)
    ReviewFactory(dead_lettered_at=datetime.now(UTC))

    assert reviews_score_isolating(review_ids=[mine.id]).scored == 1


def test_a_batch_leaves_reviews_that_just_arrived_to_their_own_messages(settings):
    settings.SCORING_FILL_AFTER_SECONDS = 60
    mine = ReviewFactory()
    ReviewFactory()

    assert reviews_score_isolating(review_ids=[mine.id]).scored == 1
