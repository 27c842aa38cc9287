"""Reads of cases shared by the API, the portal and the admin."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review, Reviewer

from .models import Appeal, Case, DecisionLabel


def cases_of_partner(*, partner: Partner) -> QuerySet[Case]:
    """Cases touching the partner (one row each: a case lists a partner once).

    Their members are read per page by ``case_members_seen_by``, not prefetched
    as model instances: a page of 100 ring and burst cases holds thousands of
    member reviews (58 ms of CPU a page that way, bench/RESULTS.md, issue 11).
    """
    return Case.objects.filter(partners=partner)


@dataclass
class CaseMembers:
    """What one partner sees of a case's members: its own, as external ids."""

    reviews: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    establishments: list[str] = field(default_factory=list)
    shared: bool = False  # another partner has members in it too
    # The risk reasons of the partner's own reviews, read only for shared cases.
    review_reasons: list[list[dict]] = field(default_factory=list)


def case_members_seen_by(*, cases: Iterable[Case], partner: Partner) -> dict[int, CaseMembers]:
    """Per case id, the partner's own members, in the same seven flat queries for
    any page (two more when a case is shared with another partner).

    Reviews and reviewers in the order they joined the case, establishments by
    name.
    """
    ids = [c.id for c in cases]
    members = {case_id: CaseMembers() for case_id in ids}
    if not ids:
        return members
    partners_of = defaultdict(set)
    for case_id, partner_id in Case.partners.through.objects.filter(
            case_id__in=ids).values_list("case_id", "partner_id"):
        partners_of[case_id].add(partner_id)
    for case_id, external_id in _members_of(Case.reviews.through, "review", Review, ids, partner):
        members[case_id].reviews.append(external_id)
    for case_id, external_id in _members_of(Case.reviewers.through, "reviewer", Reviewer, ids,
                                            partner):
        members[case_id].reviewers.append(external_id)
    for case_id, external_id in _members_of(Case.establishments.through, "establishment",
                                            Establishment, ids, partner, order_by=("name", "id")):
        members[case_id].establishments.append(external_id)
    shared = [case_id for case_id in ids if len(partners_of[case_id]) > 1]
    for case_id in shared:
        members[case_id].shared = True
    if shared:
        for case_id, reasons in _members_of(Case.reviews.through, "review", Review, shared,
                                            partner, value="risk_reasons"):
            members[case_id].review_reasons.append(reasons or [])
    return members


def _members_of(through, name: str, model, case_ids: list[int], partner: Partner, *,
                value: str = "external_id",
                order_by: tuple[str, ...] = ()) -> list[tuple[int, object]]:
    """(case id, ``value`` of the member) for the partner's members of the cases,
    in the order they joined the case, or by the member's ``order_by`` fields.

    Two steps, so the members are looked up by primary key: joining first let
    PostgreSQL scan the partner's whole reviews table for a page of cases.
    """
    pairs = list(through.objects.filter(case_id__in=case_ids).order_by("id")
                 .values_list("case_id", f"{name}_id"))
    rows = model.objects.filter(id__any=sorted({m for _, m in pairs}), partner=partner)
    found = dict(rows.order_by(*order_by).values_list("id", value))
    if order_by:
        position = {member_id: k for k, member_id in enumerate(found)}
        pairs.sort(key=lambda pair: position.get(pair[1], len(position)))
    return [(case_id, found[m]) for case_id, m in pairs if m in found]


#: Case reasons made only of counts over the whole incident ("5 member accounts
#: share a device"): they name no review, no text and no report, so every partner
#: of a shared case may read them.
PARTNER_NEUTRAL_REASONS = frozenset({
    "ring_shared_email", "ring_shared_device", "ring_shared_ip", "ring_lockstep",
    "ring_near_duplicate_text", "ring_dense_block", "ring_new_accounts",
    "burst_detected", "burst_new_accounts", "burst_unverified", "burst_shared_infrastructure",
    "burst_similar_text", "burst_one_shot_accounts", "burst_organic", "burst_suspected",
    "serial_extortionist",
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
