"""Reads of threat reports shared by the API, the portal and the admin."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.cases.models import Case
from apps.establishments.models import Establishment, OwnerMembership
from apps.partners.models import Partner

from .models import EvidenceAccess, Notification, ReportReviewLink, ThreatEvidence, ThreatReport


def _with_members(qs: QuerySet[ThreatReport]) -> QuerySet[ThreatReport]:
    return qs.select_related("establishment").prefetch_related(
        Prefetch("links", queryset=ReportReviewLink.objects.select_related("review")),
        Prefetch("evidence", queryset=ThreatEvidence.objects.all()),
        Prefetch("cases", queryset=Case.objects.only("id", "status", "kind")),
    )


def threat_reports_of_partner(*, partner: Partner) -> QuerySet[ThreatReport]:
    return _with_members(ThreatReport.objects.filter(partner=partner))


# The portal is for owners only. Being staff (or a superuser) gives no portal
# access to other owners' establishments: moderators read reports and their
# evidence in the admin, under the `reports.view_threatevidence` permission.


def establishments_of_owner(*, user: AbstractBaseUser) -> QuerySet[Establishment]:
    """The establishments a portal user holds a membership of."""
    return Establishment.objects.filter(memberships__user=user).distinct()


def threat_reports_of_owner(*, user: AbstractBaseUser) -> QuerySet[ThreatReport]:
    """Reports about the establishments the user owns, whoever filed them."""
    return _with_members(
        ThreatReport.objects.filter(establishment__memberships__user=user).distinct()
    )


def evidence_for_user(*, user: AbstractBaseUser, evidence_id: int) -> ThreatEvidence | None:
    """The evidence file if the user owns its report's establishment."""
    return (
        ThreatEvidence.objects.select_related("report")
        .filter(id=evidence_id, report__establishment__memberships__user=user)
        .first()
    )


def evidence_of_case(*, case_id: int, evidence_id: int) -> ThreatEvidence | None:
    """The evidence file if it backs a threat report attached to the case."""
    return (ThreatEvidence.objects.select_related("report")
            .filter(id=evidence_id, report__cases__id=case_id).first())


def evidence_get(*, evidence_id: int) -> ThreatEvidence | None:
    return ThreatEvidence.objects.select_related("report").filter(id=evidence_id).first()


def evidence_accesses_of_case(*, case_id: int, limit: int = 50) -> QuerySet[EvidenceAccess]:
    return (EvidenceAccess.objects.filter(evidence__report__cases__id=case_id)
            .select_related("user", "evidence").order_by("-at", "-id")[:limit])


def report_recipients(*, report: ThreatReport) -> list[tuple[AbstractBaseUser, str]]:
    """Who hears about a report, with the language of their e-mails: every owner of
    its establishment, and the portal user who filed it (once each)."""
    recipients: dict[int, tuple[AbstractBaseUser, str]] = {}
    for membership in OwnerMembership.objects.filter(
            establishment_id=report.establishment_id, user__is_active=True
    ).select_related("user").order_by("id"):
        recipients.setdefault(membership.user_id, (membership.user, membership.language))
    if report.reporter_id and report.reporter_id not in recipients and report.reporter.is_active:
        recipients[report.reporter_id] = (report.reporter, settings.LANGUAGE_CODE)
    return list(recipients.values())


def notifications_of_owner(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("report__establishment")


def owner_language(*, user: AbstractBaseUser) -> str:
    """The language of the owner's e-mails (their first membership's)."""
    return (OwnerMembership.objects.filter(user=user).order_by("id")
            .values_list("language", flat=True).first() or settings.LANGUAGE_CODE)


def notifications_unread_count(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- What report linkage (apps/detection/linkage.py) reads ---------------------------

# Reports that still act on new reviews: a confirmed threat keeps holding what the
# guest posts afterwards; only a dismissed report never counts again.
LIVE = (*ThreatReport.UNDECIDED, ThreatReport.Status.CONFIRMED)
#: Bound on the reports considered together (one guest's family of reports).
MAX_FAMILY = 500


def live_report_ids_near(*, windows: list[tuple[int, datetime, datetime]]) -> list[int]:
    """Live reports of each (establishment, received from, received to) window.

    One indexed query over the establishments and the overall time span, then
    each report is kept if its own establishment's window holds it (an OR per
    window made the query itself the cost of a large scoring batch).
    """
    if not windows:
        return []
    span: dict[int, tuple[datetime, datetime]] = {}
    for establishment_id, lo, hi in windows:
        old = span.get(establishment_id)
        span[establishment_id] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
    rows = ThreatReport.objects.filter(
        establishment_id__in=list(span), status__in=LIVE,
        received_at__gte=min(lo for lo, _ in span.values()),
        received_at__lte=max(hi for _, hi in span.values()),
    ).values_list("id", "establishment_id", "received_at")
    return [rid for rid, est, at in rows if span[est][0] <= at <= span[est][1]]


def threat_report_family(*, report_ids: Iterable[int], emails: Iterable[str] = (),
                         identity_score: float) -> list[ThreatReport]:
    """The reports plus every other live report naming the same guest, anywhere.

    Joined on identifiers: the same hashed e-mail, the same handle at the same
    partner, or a link to a review whose author has that e-mail (an exact link,
    or a name match of at least ``identity_score`` at the report's own
    establishment and time); repeated until nothing new joins. Names alone never
    join reports of different establishments: "Marie Martin" is two people more
    often than one, and a case's decision applies to all of it. Dismissed
    reports never count.
    """
    live = ThreatReport.objects.filter(status__in=LIVE)
    found = {r.id: r for r in live.filter(id__in=list(report_ids))}
    frontier = list(found.values())
    exact_links = ReportReviewLink.objects.filter(
        ~Q(methods="name") | Q(name_score__gte=identity_score)
    )
    known = set(emails)  # e-mails the caller already tied to this guest
    while frontier and len(found) < MAX_FAMILY:
        emails, known = {r.guest_email_hash for r in frontier if r.guest_email_hash} | known, set()
        emails |= set(
            exact_links.filter(report_id__in=[r.id for r in frontier])
            .values_list("review__reviewer__email_hash", flat=True)
        ) - {""}
        where = Q(guest_email_hash__in=emails) | Q(
            id__in=exact_links.filter(review__reviewer__email_hash__in=emails).values("report_id")
        )
        for r in frontier:
            if r.guest_handle_hash:
                where |= Q(partner_id=r.partner_id, guest_handle_hash=r.guest_handle_hash)
        frontier = [r for r in live.filter(where).exclude(id__in=list(found))[:MAX_FAMILY]]
        found.update((r.id, r) for r in frontier)
    return sorted(found.values(), key=lambda r: r.id)


def owner_decided_counts(*, reports: list[ThreatReport]) -> tuple[list[int], list[int]]:
    """Per report, how many of its owner's reports were confirmed and dismissed.

    The owner is the portal user who filed it, or the establishment when a
    partner relayed it on the owner's behalf.
    """
    users = {r.reporter_id for r in reports if r.reporter_id}
    ests = {r.establishment_id for r in reports if not r.reporter_id}
    decided = (ThreatReport.Status.CONFIRMED, ThreatReport.Status.DISMISSED)
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        ThreatReport.objects.filter(reporter_id__in=users, status__in=decided)
        .values("reporter_id", "status").annotate(n=Count("id"))
    ):
        counts[("user", row["reporter_id"])][row["status"]] = row["n"]
    for row in (
        ThreatReport.objects.filter(
            reporter__isnull=True, establishment_id__in=ests, status__in=decided
        ).values("establishment_id", "status").annotate(n=Count("id"))
    ):
        counts[("est", row["establishment_id"])][row["status"]] = row["n"]
    keys = [("user", r.reporter_id) if r.reporter_id else ("est", r.establishment_id)
            for r in reports]
    return ([counts[k][ThreatReport.Status.CONFIRMED] for k in keys],
            [counts[k][ThreatReport.Status.DISMISSED] for k in keys])


def reviews_cleared_by_moderator(*, review_ids: list[int]) -> set[int]:
    """Reviews a moderator already cleared of a (dismissed) report: no report may
    hold them again, so the form is never a way to bury honest criticism."""
    return set(
        ReportReviewLink.objects.filter(
            review_id__in=review_ids, report__status=ThreatReport.Status.DISMISSED
        ).values_list("review_id", flat=True)
    )


def reports_needing_linkage(*, older_than: timedelta) -> list[int]:
    """Undecided reports whose linkage never ran (their message may have been lost)."""
    return list(
        ThreatReport.objects.filter(
            status__in=ThreatReport.UNDECIDED, linked_at__isnull=True,
            created_at__lte=timezone.now() - older_than,
        ).order_by("id").values_list("id", flat=True)[:5000]
    )


def report_outcome_counts(*, partner: Partner, start: datetime, end: datetime) -> dict[str, int]:
    """Threat reports filed in [start, end) by status (one aggregate query)."""
    return ThreatReport.objects.filter(partner=partner, created_at__gte=start,
                                       created_at__lt=end).aggregate(
        filed=Count("id"),
        **{status: Count("id", filter=Q(status=status)) for status in ThreatReport.Status.values},
    )
