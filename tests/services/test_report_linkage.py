"""Threat report <-> review linkage through the real services: routes, time orders,
serial guests, owner credibility, holds, cases, webhooks and decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from apps.cases.models import Case
from apps.cases.services import case_decide
from apps.core.reasons import reason_sentence
from apps.detection.linkage import reports_link, reports_link_reviews
from apps.detection.tasks import link_threat_reports_task as link_threat_reports
from apps.detection.tasks import sweep_unlinked_reports_task as sweep_unlinked_reports
from apps.partners.models import WebhookDelivery
from apps.reports.models import ReportReviewLink, ThreatReport
from apps.reviews import pii
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, PartnerFactory, ReviewerFactory, ReviewFactory
from tests.factories_reports import OwnerFactory, ThreatReportFactory

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
HONEST = (
    "We stayed three nights. The room smelled of damp, the shower was cold every morning and "
    "the front desk shrugged when we asked to change rooms. I asked for a refund, they refused, "
    "so here is my review: not worth the price."
)


@pytest.fixture
def hotel(db):
    return EstablishmentFactory(partner=PartnerFactory(webhook_url="https://partner.example/hook"))


def guest_review(establishment, *, email="", name="Jean Dupont", booking_ref="", rating=1,
                 days=2, status=Review.Status.PUBLISHED, text="Terrible, avoid.", handle=None):
    reviewer = ReviewerFactory(
        partner=establishment.partner,
        display_name=handle if handle is not None else name,
        email_hash=pii.email_hash(email),
    )
    return ReviewFactory(
        partner=establishment.partner, establishment=establishment, reviewer=reviewer,
        rating=rating, text=text, created_at=T0 + timedelta(days=days),
        booking_ref_hash=pii.booking_ref_hash(booking_ref), status=status,
    )


def report(establishment, *, filed_after=timedelta(hours=2), **kw):
    """A report the owner filed ``filed_after`` receiving the threat (created_at is
    set by the database on insert, so it is moved to the story's time after)."""
    kw.setdefault("received_at", T0)
    rep = ThreatReportFactory(establishment=establishment, **kw)
    ThreatReport.objects.filter(pk=rep.pk).update(created_at=rep.received_at + filed_after)
    rep.refresh_from_db()
    return rep


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# --- Identification routes ------------------------------------------------------


def test_email_links_and_holds_the_guests_low_review(hotel):
    review = guest_review(hotel, email="jean@example.org", name="J.")
    rep = report(hotel, guest_email="JEAN@example.org ")

    outcome = reports_link(report_ids=[rep.id])

    assert outcome.held == 1
    assert refreshed(review).status == Review.Status.HELD
    assert refreshed(rep).status == ThreatReport.Status.LINKED
    assert ReportReviewLink.objects.get(report=rep, review=review).methods == "email"


def test_booking_reference_links(hotel):
    review = guest_review(hotel, booking_ref="BK-55120", name="Anonymous")
    rep = report(hotel, guest_booking_ref="bk 55120")

    reports_link(report_ids=[rep.id])

    assert ReportReviewLink.objects.get(report=rep, review=review).methods == "booking_ref"
    assert refreshed(review).status == Review.Status.HELD


def test_reviewer_handle_links_within_the_partner(hotel):
    review = guest_review(hotel, handle="JDupont_75")
    rep = report(hotel, guest_handle="jdupont75")

    reports_link(report_ids=[rep.id])

    link = ReportReviewLink.objects.get(report=rep, review=review)
    assert "handle" in link.methods.split(",")
    assert refreshed(review).status == Review.Status.HELD


def test_fuzzy_name_links_a_reordered_accented_name(hotel):
    review = guest_review(hotel, name="Dupont Hélène")
    rep = report(hotel, guest_name="Helene DUPONT")

    reports_link(report_ids=[rep.id])

    link = ReportReviewLink.objects.get(report=rep, review=review)
    assert link.methods == "name"
    assert link.name_score == 100
    assert refreshed(review).status == Review.Status.HELD


def test_someone_else_with_a_different_name_is_not_linked(hotel):
    review = guest_review(hotel, name="Marc Lefèvre")
    rep = report(hotel, guest_name="Jean Dupont")

    reports_link(report_ids=[rep.id])

    assert not ReportReviewLink.objects.exists()
    assert refreshed(review).status == Review.Status.PUBLISHED
    assert refreshed(rep).status == ThreatReport.Status.OPEN


def test_review_outside_the_time_window_is_not_linked(hotel):
    review = guest_review(hotel, email="jean@example.org", days=45)
    rep = report(hotel, guest_email="jean@example.org")

    reports_link(report_ids=[rep.id])

    assert refreshed(review).status == Review.Status.PUBLISHED


def test_five_star_review_of_the_named_guest_is_linked_but_not_held(hotel):
    review = guest_review(hotel, email="jean@example.org", rating=5)
    rep = report(hotel, guest_email="jean@example.org")

    reports_link(report_ids=[rep.id])

    assert ReportReviewLink.objects.filter(review=review).exists()
    assert refreshed(review).status == Review.Status.PUBLISHED
    assert not Case.objects.exists()


# --- Both time orders ------------------------------------------------------------


def test_review_written_before_the_reported_threat_stays_published_with_a_case(hotel):
    # Issue 13: a new owner's word alone (the review predates the threat it
    # reports, nothing else corroborates) does not buy a hold; a moderator decides.
    review = guest_review(hotel, email="jean@example.org", days=-2)
    rep = report(hotel, guest_email="jean@example.org")

    reports_link(report_ids=[rep.id])

    assert refreshed(review).status == Review.Status.PUBLISHED
    assert list(Case.objects.get(kind=Case.Kind.EXTORTION).reviews.all()) == [review]


def test_review_written_before_the_report_is_held_when_it_threatens_itself(hotel):
    review = guest_review(hotel, email="jean@example.org", days=-2,
                          text="Refund me or this review stays.")
    rep = report(hotel, guest_email="jean@example.org")

    reports_link(report_ids=[rep.id])

    assert refreshed(review).status == Review.Status.HELD


def test_review_arriving_after_the_report_is_held_when_scored(hotel):
    rep = report(hotel, guest_email="jean@example.org")
    reports_link(report_ids=[rep.id])  # nothing to link yet
    review = guest_review(hotel, email="jean@example.org", days=4)

    outcome = reports_link_reviews(review_ids=[review.id])

    assert outcome.held == 1
    assert refreshed(review).status == Review.Status.HELD
    assert refreshed(rep).status == ThreatReport.Status.LINKED


def test_review_three_weeks_after_the_report_is_still_linked(hotel):
    # Linked (30-day window) and put in a case, but three weeks is beyond the
    # 15 days in which timing corroborates a new owner's report (issue 13).
    rep = report(hotel, guest_email="jean@example.org")
    review = guest_review(hotel, email="jean@example.org", days=21)

    reports_link_reviews(review_ids=[review.id])

    assert refreshed(review).status == Review.Status.PUBLISHED
    assert refreshed(rep).status == ThreatReport.Status.LINKED
    assert ReportReviewLink.objects.filter(report=rep, review=review).exists()


def test_scoring_a_new_review_links_it_to_an_open_report(hotel):
    from apps.detection.services import reviews_score

    rep = report(hotel, guest_email="jean@example.org", received_at=datetime.now(UTC)
                 - timedelta(days=1))
    review = guest_review(hotel, email="jean@example.org", status=Review.Status.PENDING)
    review.created_at = datetime.now(UTC)
    review.save()

    reviews_score(review_ids=[review.id])

    assert refreshed(review).status == Review.Status.HELD
    assert ReportReviewLink.objects.get(review=review).report == rep


def test_new_review_with_no_open_report_nearby_is_left_alone(hotel):
    review = guest_review(hotel, email="jean@example.org")

    assert reports_link_reviews(review_ids=[review.id]).held == 0
    assert refreshed(review).status == Review.Status.PUBLISHED


# --- Cases, reasons, webhooks -------------------------------------------------


def test_hold_opens_one_extortion_case_with_report_review_and_bilingual_reasons(hotel):
    review = guest_review(hotel, email="jean@example.org")
    rep = report(hotel, guest_email="jean@example.org")

    reports_link(report_ids=[rep.id])

    case = Case.objects.get()
    assert case.kind == Case.Kind.EXTORTION
    assert list(case.reviews.all()) == [review]
    assert list(rep.cases.all()) == [case]
    codes = {r["code"] for r in case.reasons}
    assert {"report_identity_match", "low_rating_after_demand", "threat_in_report"} <= codes
    with translation.override("en"):
        english = [reason_sentence(r) for r in case.reasons]
    with translation.override("fr"):
        french = [reason_sentence(r) for r in case.reasons]
    assert all(en and fr and en != fr for en, fr in zip(english, french, strict=True))
    held = refreshed(review)
    codes = [r["code"] for r in held.risk_reasons]
    assert "report_identity_match" in codes and "extortion_report" in codes
    with translation.override("fr"):
        identity = next(r for r in held.risk_reasons if r["code"] == "report_identity_match")
        assert "signalement" in reason_sentence(identity)


def test_hold_sends_case_opened_and_review_status_changed_webhooks(hotel):
    review = guest_review(hotel, email="jean@example.org")
    rep = report(hotel, guest_email="jean@example.org")

    reports_link(report_ids=[rep.id])

    events = sorted(WebhookDelivery.objects.values_list("event", flat=True))
    assert events == ["case.opened", "review.status_changed"]
    change = WebhookDelivery.objects.get(event="review.status_changed").payload["data"]
    assert change["external_id"] == review.external_id
    assert (change["previous_status"], change["status"]) == ("published", "held")


def test_linkage_run_twice_changes_nothing_the_second_time(hotel):
    guest_review(hotel, email="jean@example.org")
    rep = report(hotel, guest_email="jean@example.org")

    first = reports_link(report_ids=[rep.id])
    second = reports_link(report_ids=[rep.id])

    assert (first.held, second.held) == (1, 0)
    assert first.cases == second.cases
    assert Case.objects.count() == 1
    assert WebhookDelivery.objects.count() == 2


def test_the_celery_task_runs_the_linkage(hotel):
    review = guest_review(hotel, email="jean@example.org")
    rep = report(hotel, guest_email="jean@example.org")

    result = link_threat_reports.apply(args=[[rep.id]]).get()

    assert result["held"] == 1
    assert refreshed(review).status == Review.Status.HELD


# --- Serial extortionists --------------------------------------------------------


def test_same_guest_at_two_partners_becomes_one_serial_case(db):
    hotel_a = EstablishmentFactory(partner=PartnerFactory())
    hotel_b = EstablishmentFactory(partner=PartnerFactory())
    review_a = guest_review(hotel_a, email="jean@example.org")
    review_b = guest_review(hotel_b, booking_ref="ZX-9", email="jean@example.org", name="JD")
    rep_a = report(hotel_a, guest_email="jean@example.org", guest_name="Jean Dupont")
    reports_link(report_ids=[rep_a.id])
    # Partner B's owner only knows the booking: the guest's review there carries the e-mail.
    rep_b = report(hotel_b, guest_booking_ref="ZX-9", received_at=T0 + timedelta(days=1))

    reports_link(report_ids=[rep_b.id])

    case = Case.objects.get()
    assert set(case.reviews.all()) == {review_a, review_b}
    assert set(case.partners.all()) == {hotel_a.partner, hotel_b.partner}
    assert set(case.establishments.all()) == {hotel_a, hotel_b}
    serial = next(r for r in case.reasons if r["code"] == "serial_extortionist")
    with translation.override("en"):
        assert "2 establishments (2 partners)" in reason_sentence(serial)
    assert set(rep_b.cases.all()) == {case}


def test_a_name_only_report_joins_the_guest_through_the_review_it_matches(db):
    hotel_a, hotel_b = EstablishmentFactory(), EstablishmentFactory()
    guest_review(hotel_a, email="jean@example.org")
    guest_review(hotel_b, email="jean@example.org", name="Jean Dupont")
    reports_link(report_ids=[report(hotel_a, guest_email="jean@example.org").id])

    reports_link(report_ids=[report(hotel_b, guest_name="DUPONT Jean").id])

    case = Case.objects.get()
    assert case.reviews.count() == 2
    assert "serial_extortionist" in {r["code"] for r in case.reasons}


def test_namesakes_at_two_establishments_are_not_merged(db):
    hotel_a, hotel_b = EstablishmentFactory(), EstablishmentFactory()
    guest_review(hotel_a, email="marie.1@example.org", name="Marie Martin")
    guest_review(hotel_b, email="marie.2@example.org", name="Marie Martin")
    rep_a = report(hotel_a, guest_name="Marie Martin", guest_email="marie.1@example.org")
    rep_b = report(hotel_b, guest_name="Marie Martin")

    reports_link(report_ids=[rep_a.id, rep_b.id])

    assert Case.objects.count() == 2
    assert not any(r["code"] == "serial_extortionist" for c in Case.objects.all()
                   for r in c.reasons)


def test_a_new_threat_after_a_confirmed_case_reopens_the_guests_case(db):
    hotel_a = EstablishmentFactory(partner=PartnerFactory())
    hotel_b = EstablishmentFactory(partner=PartnerFactory())
    guest_review(hotel_a, email="jean@example.org")
    reports_link(report_ids=[report(hotel_a, guest_email="jean@example.org").id])
    case = Case.objects.get()
    case_decide(case=case, decision="confirmed", actor=None, note="Clear threat.")
    later = guest_review(hotel_b, email="jean@example.org", days=42)

    reports_link(report_ids=[report(hotel_b, guest_email="jean@example.org",
                                    received_at=T0 + timedelta(days=40)).id])

    assert Case.objects.get() == case
    assert refreshed(case).status == Case.Status.OPEN
    assert later in case.reviews.all()
    assert refreshed(later).status == Review.Status.HELD


def test_a_confirmed_report_still_holds_the_review_posted_afterwards(hotel):
    rep = report(hotel, guest_email="jean@example.org")
    other = report(EstablishmentFactory(), guest_email="jean@example.org")  # serial: a case
    reports_link(report_ids=[rep.id, other.id])
    case_decide(case=Case.objects.get(), decision="confirmed", actor=None, note="Threats.")
    review = guest_review(hotel, email="jean@example.org", days=6)

    reports_link_reviews(review_ids=[review.id])

    assert refreshed(rep).status == ThreatReport.Status.CONFIRMED
    assert refreshed(review).status == Review.Status.HELD
    assert refreshed(Case.objects.get()).status == Case.Status.OPEN  # reopened: new evidence


def test_serial_guest_without_reviews_yet_still_opens_one_case(db):
    hotels = [EstablishmentFactory(partner=PartnerFactory()) for _ in range(3)]
    reps = [report(h, guest_email="jean@example.org") for h in hotels]

    for rep in reps:
        reports_link(report_ids=[rep.id])

    case = Case.objects.get()
    assert case.reviews.count() == 0
    assert case.establishments.count() == 3


# --- Owner credibility and false reports ------------------------------------------


def _dismissed_reports(owner, establishment, n):
    for _ in range(n):
        report(establishment, reporter=owner, guest_name="Someone Else",
               status=ThreatReport.Status.DISMISSED)


def test_false_report_from_a_low_credibility_owner_holds_nothing_and_is_flagged(hotel):
    owner = OwnerFactory()
    _dismissed_reports(owner, hotel, 3)
    honest = guest_review(hotel, email="critic@example.org", rating=2, text=HONEST)
    rep = report(hotel, reporter=owner, guest_email="critic@example.org",
                 message_text="This guest complained a lot.")

    outcome = reports_link(report_ids=[rep.id])

    assert outcome.held == 0
    assert refreshed(honest).status == Review.Status.PUBLISHED
    case = Case.objects.get()
    assert "low_credibility_report" in {r["code"] for r in case.reasons}


def test_honest_review_stays_published_after_the_case_is_dismissed(hotel):
    owner = OwnerFactory()
    honest = guest_review(hotel, email="critic@example.org", rating=2, text=HONEST)
    rep = report(hotel, reporter=owner, guest_email="critic@example.org")
    reports_link(report_ids=[rep.id])
    case = Case.objects.get()
    assert refreshed(honest).status == Review.Status.HELD  # a new owner is believed at first

    case_decide(case=case, decision="dismissed", actor=None, note="Detailed, genuine stay.")
    second = report(hotel, reporter=owner, guest_email="critic@example.org",
                    received_at=T0 + timedelta(days=1))
    reports_link(report_ids=[second.id])

    assert refreshed(rep).status == ThreatReport.Status.DISMISSED
    assert refreshed(honest).status == Review.Status.PUBLISHED


def test_confirmed_case_confirms_its_reports(hotel):
    guest_review(hotel, email="jean@example.org")
    rep = report(hotel, guest_email="jean@example.org")
    reports_link(report_ids=[rep.id])

    case_decide(case=Case.objects.get(), decision="confirmed", actor=None, note="Clear threat.")

    assert refreshed(rep).status == ThreatReport.Status.CONFIRMED
    assert refreshed(rep).decided_at is not None


def test_the_sweep_re_enqueues_reports_whose_linkage_never_ran(hotel):
    from unittest import mock

    lost = report(hotel, guest_email="jean@example.org")
    ThreatReport.objects.filter(id=lost.id).update(created_at=T0)
    done = report(hotel, guest_email="other@example.org")
    reports_link(report_ids=[done.id])

    with mock.patch("apps.detection.tasks.link_threat_reports_task.delay") as delay:
        assert sweep_unlinked_reports() == 1

    delay.assert_called_once_with([lost.id])


def test_linking_a_checked_report_again_leaves_its_row_alone(hotel):
    rep = report(hotel, guest_email="jean@example.org")
    reports_link(report_ids=[rep.id])
    first = refreshed(rep).linked_at
    reports_link(report_ids=[rep.id])
    assert first is not None
    assert refreshed(rep).linked_at == first


def test_pending_review_by_a_reported_guest_is_held_in_its_first_verdict(hotel):
    from apps.detection.services import reviews_score

    report(hotel, guest_email="jean@example.org")
    review = guest_review(hotel, email="jean@example.org", status=Review.Status.PENDING)

    reviews_score(review_ids=[review.id])

    assert refreshed(review).status == Review.Status.HELD
    changes = WebhookDelivery.objects.filter(event="review.status_changed")
    assert [d.payload["data"]["previous_status"] for d in changes] == ["pending"]


def test_review_held_by_a_report_joins_the_guest_case_not_a_case_of_its_own(hotel):
    from apps.detection.services import reviews_score

    report(hotel, guest_email="jean@example.org")
    review = guest_review(hotel, email="jean@example.org", status=Review.Status.PENDING)

    reviews_score(review_ids=[review.id])

    assert list(Case.objects.values_list("kind", flat=True)) == [Case.Kind.EXTORTION]
    assert ReportReviewLink.objects.get(review=review).held


def test_a_partner_with_a_higher_threshold_keeps_a_report_only_review_published(hotel):
    hotel.partner.hold_threshold = 0.95
    hotel.partner.save()
    review = guest_review(hotel, email="jean@example.org")
    rep = report(hotel, guest_email="jean@example.org")

    reports_link(report_ids=[rep.id])

    assert refreshed(review).status == Review.Status.PUBLISHED
    assert Case.objects.get().kind == Case.Kind.EXTORTION
