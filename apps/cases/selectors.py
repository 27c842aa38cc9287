"""Reads of cases shared by the API, the portal and the admin."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, DurationField, ExpressionWrapper, F, Prefetch, Q, QuerySet

from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review, Reviewer

from .models import Appeal, Case, DecisionLabel


def cases_of_partner(*, partner: Partner) -> QuerySet[Case]:
    """Cases touching the partner, with only the partner's own members prefetched
    (their reviews with their reasons, for ``case_reasons_seen_by``) and the ids of
    the case's partners (is it shared?)."""
    return (
        Case.objects.filter(partners=partner)
        .prefetch_related(
            Prefetch("establishments", queryset=Establishment.objects.filter(partner=partner)),
            Prefetch("reviews", queryset=Review.objects.filter(partner=partner)
                     .only("id", "external_id", "risk_reasons")),
            Prefetch("reviewers", queryset=Reviewer.objects.filter(partner=partner).only("id", "external_id")),
            Prefetch("partners", queryset=Partner.objects.only("id")),
        )
        .distinct()
    )


#: Case reasons made only of counts over the whole incident ("5 member accounts
#: share a device"): they name no review, no text and no report, so every partner
#: of a shared case may read them.
PARTNER_NEUTRAL_REASONS = frozenset({
    "ring_shared_email", "ring_shared_device", "ring_shared_ip", "ring_lockstep",
    "ring_near_duplicate_text", "ring_dense_block", "ring_new_accounts",
    "burst_detected", "burst_new_accounts", "burst_unverified", "burst_shared_infrastructure",
    "burst_similar_text", "burst_one_shot_accounts", "burst_organic", "serial_extortionist",
})


def case_reasons_seen_by(*, case_reasons: list[dict], shared: bool,
                         own_review_reasons: Iterable[list[dict]]) -> list[dict]:
    """The reasons of a case as one of its partners may read them.

    A case of one partner is shown whole. A case shared by several partners (a
    ring spanning two sites, a serial extortionist) shows a partner the
    partner-neutral counts, and any other reason only as the partner's own reviews
    carry it (their record, with their values: a quoted text or a report match of
    another partner's review never shows). Order stays the case's.
    """
    if not shared:
        return list(case_reasons)
    own: dict[str, dict] = {}
    for reasons in own_review_reasons:
        for record in reasons or ():
            code = record.get("code")
            if code and (code not in own or (record.get("score") or 0) > (own[code].get("score") or 0)):
                own[code] = record
    seen = []
    for record in case_reasons:
        code = record.get("code")
        if code in PARTNER_NEUTRAL_REASONS:
            seen.append(record)
        elif code in own:
            seen.append(own[code])
    return seen


def cases_no_longer_open(*, ids) -> list[int]:
    return list(Case.objects.filter(id__in=list(ids)).exclude(status=Case.Status.OPEN)
                .values_list("id", flat=True))


def decided_reviews_for_calibration(*, limit: int = 200_000) -> list[tuple[list, int, int]]:
    """(stored risk reasons, partner id, 1 confirmed / 0 dismissed) for each review
    of a decided case, latest decision first: the labels calibration learns from."""
    rows: list[tuple[list, int, int]] = []
    labels = DecisionLabel.objects.order_by("-created_at").values_list("case_id", "label")
    label_of: dict[int, int] = {}
    for case_id, label in labels:
        label_of.setdefault(case_id, 1 if label == DecisionLabel.Label.CONFIRMED else 0)
    through = Case.reviews.through.objects.filter(case_id__in=list(label_of)).values_list(
        "case_id", "review__risk_reasons", "review__partner_id")
    for case_id, reasons, partner_id in through[:limit]:
        rows.append((reasons or [], partner_id, label_of[case_id]))
    return rows


def case_that_removed(*, review: Review) -> Case | None:
    """The latest confirmed case that removed this review, if it is still removed."""
    if review.status != Review.Status.REMOVED:
        return None
    contested = Q(status=Case.Status.CONFIRMED) | Q(
        appeals__status=Appeal.Status.OPEN, appeals__previous_status=Case.Status.CONFIRMED)
    return (Case.objects.filter(contested, reviews=review).distinct()
            .order_by("-decided_at", "-id").first())


def appeals_of_case(*, case: Case) -> QuerySet[Appeal]:
    return case.appeals.select_related("review", "filed_by", "previous_decided_by",
                                       "decided_by", "partner").order_by("created_at", "id")


def appeal_of_subject(*, subject: str) -> Appeal | None:
    return Appeal.objects.filter(subject=subject).first()


# --- Transparency (counts only: nothing here identifies a person) --------------------

DECIDED = (Case.Status.CONFIRMED, Case.Status.DISMISSED)


def review_outcomes_by_case_kind(*, partner: Partner, start: datetime,
                                 end: datetime) -> list[dict]:
    """Per kind of finding: the partner's reviews received in [start, end) that were in
    a case of that kind, and how many of them are held, removed, published."""
    members = Case.reviews.through.objects.filter(
        review__partner=partner, review__received_at__gte=start, review__received_at__lt=end)
    status = "review__status"
    return list(
        members.values(kind=F("case__kind")).annotate(
            reviews=Count("review", distinct=True),
            held=Count("review", filter=Q(**{status: Review.Status.HELD}), distinct=True),
            removed=Count("review", filter=Q(**{status: Review.Status.REMOVED}), distinct=True),
            published=Count("review", filter=Q(**{status: Review.Status.PUBLISHED}),
                            distinct=True),
        ).order_by("kind")
    )


def reviews_published_after_review(*, partner: Partner, start: datetime, end: datetime) -> int:
    """Reviews received in [start, end), now published, that a moderator looked at
    (they belong to a decided case)."""
    return (Case.reviews.through.objects.filter(
        review__partner=partner, review__received_at__gte=start, review__received_at__lt=end,
        review__status=Review.Status.PUBLISHED, case__status__in=DECIDED,
    ).aggregate(n=Count("review", distinct=True))["n"])


def decision_hours(*, partner: Partner, start: datetime, end: datetime) -> list[float]:
    """Hours from opening to decision of the partner's cases decided in [start, end)."""
    durations = (Case.objects.filter(partners=partner, decided_at__gte=start, decided_at__lt=end)
                 .annotate(took=ExpressionWrapper(F("decided_at") - F("opened_at"),
                                                  output_field=DurationField()))
                 .values_list("took", flat=True))
    return [d.total_seconds() / 3600 for d in durations]


def appeal_counts(*, partner: Partner, start: datetime, end: datetime) -> dict[str, dict]:
    """Appeals filed in [start, end) on the partner's cases: kind -> status -> count."""
    counts: dict[str, dict] = {}
    for row in (Appeal.objects.filter(case__partners=partner, created_at__gte=start,
                                      created_at__lt=end)
                .values("kind", "status").annotate(n=Count("id", distinct=True))):
        counts.setdefault(row["kind"], {})[row["status"]] = row["n"]
    return counts


def cases_sharing_reviews(*, case: Case) -> list[Case]:
    """Other open cases holding one of this case's reviews (a decision here moves
    reviews that a moderator may also be looking at there)."""
    return list(
        Case.objects.filter(status=Case.Status.OPEN, reviews__cases=case)
        .exclude(pk=case.pk).distinct().order_by("-severity")[:10]
    )
