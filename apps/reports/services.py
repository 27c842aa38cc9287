"""Threat reports: filing (API and portal), linkage to reviews, holds and extortion cases.

Linkage runs both ways in time: a new report is matched against the reviews
already written at its establishment (``reports_link``), and a newly scored
review against the live reports of its establishment
(``reports_link_reviews``). Both end in the same place: ml/extortion.py links,
groups the reports of one guest across establishments and partners, weighs
each report by its owner's record, and scores the reviews; a linked review
that scores high enough is HELD (never removed) and every guest gets one
extortion case, however many establishments they threatened.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert
from apps.core.exceptions import ApplicationError
from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews import pii
from apps.reviews.models import Review
from apps.reviews.services import review_set_status
from ml.extortion import (
    EXTORTION_REASONS,
    METHOD_BITS,
    Links,
    ReviewGuests,
    ThreatReports,
    link_reports_to_reviews,
    owner_credibility,
    score_extortion,
    serial_extortionists,
)
from ml.features import ReviewColumns
from ml.text import normalize

from .evidence import CheckedEvidence, check_evidence
from .models import ReportReviewLink, ThreatEvidence, ThreatReport

logger = logging.getLogger(__name__)

#: A review is linked when written this many days before ... after the report.
LINK_DAYS_BEFORE = 7.0
LINK_DAYS_AFTER = 30.0
#: Reviews at or below this rating, linked to a report, go to a moderator.
CASE_MAX_RATING = 3
#: Severity of a serial-extortion case that has no review yet.
SERIAL_ONLY_SEVERITY = 0.6
#: A name match this close (0-100) at the report's own establishment and time
#: tells who the author is, like an identifier (it may join the guest's reports).
NAME_IDENTITY_SCORE = 95.0
#: Bound on the reports considered together (one guest's family of reports).
MAX_FAMILY = 500

UNDECIDED = (ThreatReport.Status.OPEN, ThreatReport.Status.LINKED)
# Reports that still act on new reviews: a confirmed threat keeps holding what the
# guest posts afterwards; only a dismissed report never counts again.
LIVE = (*UNDECIDED, ThreatReport.Status.CONFIRMED)


# --------------------------------------------------------------------------- #
# Identifiers


def handle_hash(handle: str) -> str:
    """Keyed hash of a reviewer handle (case, accents and punctuation ignored)."""
    normalised = pii.normalise_handle(handle or "")
    return pii.pii_hash("handle", normalised) if normalised else ""


def name_key(name: str) -> str:
    """Folded, sorted name tokens: "Hélène DUPONT" and "dupont helene" share a key."""
    return " ".join(sorted(normalize(name or "").split()))[:200]


# --------------------------------------------------------------------------- #
# Filing


def _guest_identifiers(guest: dict) -> dict:
    return {
        "guest_name": (guest.get("name") or "").strip(),
        "guest_name_key": name_key(guest.get("name") or ""),
        "guest_email_hash": pii.email_hash(guest.get("email") or ""),
        "guest_booking_ref_hash": pii.booking_ref_hash(guest.get("booking_ref") or ""),
        "guest_handle_hash": handle_hash(guest.get("reviewer_handle") or ""),
    }


def threat_report_create(
    *,
    partner: Partner,
    establishment: Establishment,
    payload: dict,
    files: Iterable = (),
    reporter=None,
) -> ThreatReport:
    """File a validated report with its evidence and schedule its linkage after commit.

    ``payload`` has the API's shape (see ``schemas.REPORT_FIELDS``; the
    ``establishment`` key is ignored in favour of the object). Raises
    ApplicationError for a report that names no guest identifier or for bad
    evidence (unsupported type: 400, too large: 413); then nothing is stored.
    """
    if establishment.partner_id != partner.id:
        raise ApplicationError("unknown_establishment", "Unknown establishment.")
    guest = payload.get("guest") or {}
    if not any((guest.get(k) or "").strip() for k in ("name", "email", "booking_ref",
                                                        "reviewer_handle")):
        raise ApplicationError(
            "validation_error",
            "The report is invalid.",
            fields={"guest": {"non_field_errors": [
                "Give at least one of name, email, booking_ref or reviewer_handle."]}},
        )
    checked = check_evidence(list(files))
    with transaction.atomic():
        report = ThreatReport.objects.create(
            partner=partner,
            establishment=establishment,
            reporter=reporter,
            channel=payload["channel"],
            message_text=payload["message_text"],
            demand=payload["demand"],
            received_at=payload["received_at"],
            **_guest_identifiers(guest),
        )
        for item in checked:
            _store_evidence(report=report, item=item)
        report_id = report.id
        transaction.on_commit(lambda: enqueue_report_linkage(report_ids=[report_id]), robust=True)
    return report


def _store_evidence(*, report: ThreatReport, item: CheckedEvidence) -> ThreatEvidence:
    evidence = ThreatEvidence(
        report=report,
        original_name=item.original_name,
        content_type=item.content_type,
        size=item.size,
        sha256=item.sha256,
    )
    evidence.file.save(item.original_name, item.upload, save=False)
    evidence.save()
    return evidence


def enqueue_report_linkage(*, report_ids: list[int]) -> None:
    """Publish the linkage task; if the broker is down the sweep picks the reports up."""
    from .tasks import link_threat_reports

    try:
        link_threat_reports.delay(report_ids)
    except Exception:
        logger.warning("broker unavailable; reports %s left to the sweep", report_ids,
                       exc_info=True)


# --------------------------------------------------------------------------- #
# Linkage


@dataclass(frozen=True)
class LinkOutcome:
    reports: int = 0  # reports considered (the whole family of the guest)
    links: int = 0  # report-review links found
    held: int = 0  # reviews moved to held by this run
    cases: tuple[int, ...] = ()  # extortion cases opened or extended


def reports_link_reviews(*, review_ids: list[int]) -> LinkOutcome:
    """Match newly scored reviews against the live reports of their establishments."""
    windows = (
        Review.objects.filter(id__in=review_ids)
        .values("establishment_id")
        .annotate(first=Min("created_at"), last=Max("created_at"))
    )
    # A review written at t links to reports received in [t - AFTER, t + BEFORE].
    where = Q()
    for w in windows:
        where |= Q(
            establishment_id=w["establishment_id"],
            received_at__gte=w["first"] - timedelta(days=LINK_DAYS_AFTER),
            received_at__lte=w["last"] + timedelta(days=LINK_DAYS_BEFORE),
        )
    if not where:
        return LinkOutcome()
    report_ids = list(
        ThreatReport.objects.filter(where, status__in=LIVE).values_list("id", flat=True)
    )
    if not report_ids:
        return LinkOutcome()
    return reports_link(report_ids=report_ids)


def _family(report_ids: Iterable[int], *, emails: Iterable[str] = ()) -> list[ThreatReport]:
    """The reports plus every other live report naming the same guest, anywhere.

    Joined on identifiers: the same hashed e-mail, the same handle at the same
    partner, or a link to a review whose author has that e-mail (an exact link,
    or a near-certain name match at the report's own establishment and time);
    repeated until nothing new joins. Names alone never join reports of
    different establishments: "Marie Martin" is two people more often than one,
    and a case's decision applies to all of it. Dismissed reports never count.
    """
    live = ThreatReport.objects.filter(status__in=LIVE)
    found = {r.id: r for r in live.filter(id__in=list(report_ids))}
    frontier = list(found.values())
    exact_links = ReportReviewLink.objects.filter(
        ~Q(methods="name") | Q(name_score__gte=NAME_IDENTITY_SCORE)
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


_REVIEW_VALUES = (
    "id", "partner_id", "establishment_id", "reviewer_id", "rating", "created_at", "text",
    "booking_ref_hash", "reviewer__email_hash", "reviewer__display_name",
    "reviewer__external_id",
)


def _candidate_reviews(reports: list[ThreatReport]) -> list[dict]:
    """Reviews of the reports' establishments written inside any report's window."""
    spans: dict[int, list] = {}
    for r in reports:
        lo = r.received_at - timedelta(days=LINK_DAYS_BEFORE)
        hi = r.received_at + timedelta(days=LINK_DAYS_AFTER)
        span = spans.setdefault(r.establishment_id, [lo, hi])
        span[0], span[1] = min(span[0], lo), max(span[1], hi)
    where = Q()
    for est, (lo, hi) in spans.items():
        where |= Q(establishment_id=est, created_at__gte=lo, created_at__lte=hi)
    return list(Review.objects.filter(where).order_by("id").values(*_REVIEW_VALUES))


class _Codes:
    """Strings -> int64 codes shared by the report side and the review side; "" -> -1."""

    def __init__(self) -> None:
        self._codes: dict = {}

    def __call__(self, values: Iterable) -> np.ndarray:
        return np.array(
            [self._codes.setdefault(v, len(self._codes)) if v else -1 for v in values],
            dtype=np.int64,
        )


def _epoch(values: Iterable) -> np.ndarray:
    return np.array([v.timestamp() for v in values], dtype=np.float64)


def _credibility(reports: list[ThreatReport]) -> np.ndarray:
    """Each report's owner credibility from the owner's decided reports.

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
    return owner_credibility(
        np.array([counts[k][ThreatReport.Status.CONFIRMED] for k in keys], dtype=np.float64),
        np.array([counts[k][ThreatReport.Status.DISMISSED] for k in keys], dtype=np.float64),
    )


def owner_credibility_of(*, report: ThreatReport) -> float:
    """The credibility ml/extortion.py gives this report's owner today (0..1)."""
    return float(_credibility([report])[0])


def _linkage_inputs(reports: list[ThreatReport]):
    """Candidate review rows, and the columns ml/extortion.py links them with."""
    rows = _candidate_reviews(reports)

    email, booking, handle = _Codes(), _Codes(), _Codes()
    report_cols = ThreatReports(
        establishment=np.array([r.establishment_id for r in reports], dtype=np.int64),
        received_at=_epoch(r.received_at for r in reports),
        owner=np.array([r.reporter_id or -r.establishment_id for r in reports], dtype=np.int64),
        email=email(r.guest_email_hash for r in reports),
        booking_ref=booking(r.guest_booking_ref_hash for r in reports),
        # Handles are names on one partner's site: the same handle elsewhere is someone else.
        handle=handle((r.partner_id, r.guest_handle_hash) if r.guest_handle_hash else ""
                      for r in reports),
        name=[r.guest_name for r in reports],
        partner=np.array([r.partner_id for r in reports], dtype=np.int64),
        message_text=[r.message_text for r in reports],
    )
    n = len(rows)
    review_cols = ReviewColumns(
        reviewer=np.array([x["reviewer_id"] for x in rows], dtype=np.int64),
        establishment=np.array([x["establishment_id"] for x in rows], dtype=np.int64),
        rating=np.array([x["rating"] for x in rows], dtype=np.float64),
        created_at=_epoch(x["created_at"] for x in rows),
        account_created_at=np.full(n, np.nan),
        email=email(x["reviewer__email_hash"] for x in rows),
        text=[x["text"] for x in rows],
    )
    guests = ReviewGuests(
        booking_ref=booking(x["booking_ref_hash"] for x in rows),
        name=[x["reviewer__display_name"] for x in rows],
        handle=handle(
            (x["partner_id"], handle_hash(x["reviewer__display_name"] or x["reviewer__external_id"]))
            for x in rows
        ),
    )
    links = link_reports_to_reviews(
        report_cols, review_cols, guests=guests,
        days_after=LINK_DAYS_AFTER, days_before=LINK_DAYS_BEFORE,
    )
    return rows, report_cols, review_cols, links


def _identity_links(links: Links) -> np.ndarray:
    """Links that say who the author is: exact identifiers, or a near-certain name."""
    exact = (links.method & ~METHOD_BITS["name"]) != 0
    return exact | (np.nan_to_num(links.name_score) >= NAME_IDENTITY_SCORE)


def reports_link(*, report_ids: list[int]) -> LinkOutcome:
    """Link reports (and the rest of each guest's reports) to reviews; hold and open cases.

    Idempotent: links are upserted, holds are guarded transitions, and a
    guest's case is found again by its member keys (the guest's reports), so a
    re-run changes nothing. Dismissed reports take no part.
    """
    seen_emails: set[str] = set()
    for _ in range(3):
        reports = _family(report_ids, emails=seen_emails)
        if not reports:
            return LinkOutcome()
        rows, report_cols, review_cols, links = _linkage_inputs(reports)
        # The reviews found may reveal the guest's e-mail (a report that gave only a
        # booking reference): then the guest's reports elsewhere join, and we link again.
        identity = _identity_links(links)
        found = {rows[int(rev)]["reviewer__email_hash"] for rev in links.review[identity]} - {""}
        if found <= seen_emails:
            break
        seen_emails |= found
    # Same rule as _family: identifiers group a guest's reports, names alone do not.
    # A report known by name only takes the e-mail of the author its name matched.
    resolved = report_cols.email.copy()
    for k in np.flatnonzero(identity).tolist():
        rep = int(links.report[k])
        if resolved[rep] < 0:
            resolved[rep] = review_cols.email[int(links.review[k])]
    serial = serial_extortionists(
        replace(report_cols, email=resolved), links=links, reviews=review_cols,
        join_on_name=False,
    )
    credibility = _credibility(reports)
    scores = score_extortion(
        report_cols, review_cols, links, credibility=credibility, serial=serial
    )
    with transaction.atomic():
        outcome = _apply(reports, rows, links, serial, scores, credibility)
    logger.info(
        "linked %d report(s): %d link(s), %d review(s) held, cases %s",
        outcome.reports, outcome.links, outcome.held, list(outcome.cases),
    )
    return outcome


def _reason_dicts(reasons) -> list[dict]:
    return [{"code": r.code, "score": round(float(r.score), 4), "en": r.en, "fr": r.fr}
            for r in reasons]


def _merge_reasons(*lists: list[dict]) -> list[dict]:
    """One reason per code, the strongest, strongest first."""
    best: dict[str, dict] = {}
    for reasons in lists:
        for r in reasons:
            if r["code"] not in best or r.get("score", 0) > best[r["code"]].get("score", 0):
                best[r["code"]] = r
    return sorted(best.values(), key=lambda r: -r.get("score", 0))


def _serial_reason(establishments: int, partners: int, score: float) -> dict:
    en, fr = EXTORTION_REASONS["serial_extortionist"]
    values = {"establishments": establishments, "partners": partners}
    return {"code": "serial_extortionist", "score": round(score, 4),
            "en": en.format(**values), "fr": fr.format(**values)}


def _apply(reports, rows, links, serial, scores, credibility) -> LinkOutcome:
    now = timezone.now()
    live_mask = np.array([r.status in LIVE for r in reports], dtype=bool)
    # Reviews a moderator already cleared of a (dismissed) report are never held
    # again by a report: the form must not be a way to bury honest criticism.
    review_ids = [x["id"] for x in rows]
    cleared = set(
        ReportReviewLink.objects.filter(
            review_id__in=review_ids, report__status=ThreatReport.Status.DISMISSED
        ).values_list("review_id", flat=True)
    )

    # 1. Links (dismissed reports are not in the family: they keep their history).
    existing = {
        (link.report_id, link.review_id): link
        for link in ReportReviewLink.objects.filter(
            report_id__in=[r.id for r in reports], review_id__in=review_ids
        )
    }
    link_rows: dict[int, list[int]] = defaultdict(list)  # report row -> link indices
    for k in range(len(links)):
        rep, rev = int(links.report[k]), int(links.review[k])
        if not live_mask[rep]:
            continue
        link_rows[rep].append(k)
        key = (reports[rep].id, rows[rev]["id"])
        methods = ",".join(links.methods(k))
        name_score = None if np.isnan(links.name_score[k]) else float(links.name_score[k])
        strength = round(float(scores.link_score[k]), 4)
        link = existing.get(key)
        if link is None:
            existing[key] = ReportReviewLink.objects.create(
                report_id=key[0], review_id=key[1], methods=methods,
                name_score=name_score, strength=strength,
            )
        elif (link.methods, link.name_score, link.strength) != (methods, name_score, strength):
            link.methods, link.name_score, link.strength = methods, name_score, strength
            link.save(update_fields=["methods", "name_score", "strength", "updated_at"])

    # 2. One group per guest: a serial group, or a lone report.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i in range(len(reports)):
        g = int(serial.group[i])
        groups[("serial", g) if g >= 0 else ("report", i)].append(i)

    held_total = 0
    case_ids: list[int] = []
    low_credibility = credibility < 0.5
    for members in groups.values():
        live = [i for i in members if live_mask[i]]
        if not live:
            continue
        is_serial = int(serial.group[members[0]]) >= 0
        # Reviews linked to this guest's live reports that a moderator should see.
        in_case: dict[int, None] = {}
        to_hold: list[int] = []
        for i in live:
            for k in link_rows.get(i, []):
                rev = int(links.review[k])
                row = rows[rev]
                if row["rating"] > CASE_MAX_RATING and not scores.hold[rev]:
                    continue
                in_case[rev] = None
                best = int(scores.best_report[rev])
                if (scores.hold[rev] and best in live and row["id"] not in cleared
                        and rev not in to_hold):
                    to_hold.append(rev)
        if not in_case and not is_serial:
            continue
        reasons = _merge_reasons(*[_reason_dicts(scores.reasons[rev]) for rev in in_case])
        if is_serial:
            i0 = members[0]
            reasons = _merge_reasons(reasons, [_serial_reason(
                int(serial.establishments[i0]), int(serial.partners[i0]),
                max([float(scores.score[rev]) for rev in in_case], default=SERIAL_ONLY_SEVERITY),
            )])
        if any(low_credibility[i] for i in live) and not any(
            r["code"] == "low_credibility_report" for r in reasons
        ):
            worst = min(float(credibility[i]) for i in live)
            en, fr = EXTORTION_REASONS["low_credibility_report"]
            reasons.append({"code": "low_credibility_report", "score": round(1 - worst, 4),
                            "en": en.format(credibility=worst), "fr": fr.format(credibility=worst)})
        severity = max([float(scores.score[rev]) for rev in in_case],
                       default=SERIAL_ONLY_SEVERITY if is_serial else 0.0)
        group_reports = [reports[i] for i in members]
        finding = CaseFinding(
            kind=Case.Kind.EXTORTION,
            # Every (non-dismissed) report of the guest: a report joining later shares
            # keys with the guest's case, so case_upsert extends it, or reopens it if a
            # moderator already decided it, instead of opening a twin.
            member_keys=tuple(f"threat_report:{r.id}" for r in group_reports),
            severity=round(severity, 4),
            reasons=reasons,
            summary=_summary(group_reports, len(in_case), is_serial),
            review_ids=tuple(rows[rev]["id"] for rev in in_case),
            reviewer_ids=tuple(sorted({rows[rev]["reviewer_id"] for rev in in_case})),
            establishment_ids=tuple(sorted(
                {r.establishment_id for r in group_reports}
                | {rows[rev]["establishment_id"] for rev in in_case})),
            partner_ids=tuple(sorted(
                {r.partner_id for r in group_reports} | {rows[rev]["partner_id"] for rev in in_case})),
        )
        case, _ = case_upsert(finding=finding)
        case_ids.append(case.id)
        for i in live:
            reports[i].cases.add(case)
        for rev in to_hold:
            if not _hold(review_id=rows[rev]["id"], score=float(scores.score[rev]),
                         reasons=_reason_dicts(scores.reasons[rev])):
                continue  # already held (by this report earlier, or by scoring)
            held_total += 1
            best = reports[int(scores.best_report[rev])]
            ReportReviewLink.objects.filter(report=best, review_id=rows[rev]["id"]).update(
                held=True, updated_at=now
            )

    # 3. Report status: linked once a review of the guest is found.
    live_ids = [r.id for r, u in zip(reports, live_mask, strict=True) if u]
    linked_ids = [reports[i].id for i in link_rows]
    ThreatReport.objects.filter(id__in=linked_ids, status=ThreatReport.Status.OPEN).update(
        status=ThreatReport.Status.LINKED, updated_at=now
    )
    ThreatReport.objects.filter(id__in=live_ids).update(linked_at=now)
    return LinkOutcome(
        reports=len(reports),
        links=sum(len(v) for v in link_rows.values()),
        held=held_total,
        cases=tuple(dict.fromkeys(case_ids)),
    )


def _summary(group_reports: list[ThreatReport], n_reviews: int, is_serial: bool) -> str:
    n_est = len({r.establishment_id for r in group_reports})
    if is_serial:
        return (f"Serial extortion: one guest reported by {n_est} establishments; "
                f"{n_reviews} review(s) linked")[:300]
    return f"Threat report #{group_reports[0].id}: {n_reviews} review(s) by the reported guest"[:300]


def _hold(*, review_id: int, score: float, reasons: list[dict]) -> bool:
    """Hold a pending or published review for a moderator, with the report's reasons."""
    from apps.detection.services import emit_review_status_changed

    review = Review.objects.select_related("partner").get(id=review_id)
    previous = review.status
    if not review_set_status(
        review=review,
        status=Review.Status.HELD,
        allowed_from=(Review.Status.PENDING, Review.Status.PUBLISHED),
    ):
        return False
    # The partner reads why it was held (API and webhook): add the report's reasons
    # to the review's own, without dropping what scoring found.
    review.risk_reasons = _merge_reasons(reasons, review.risk_reasons or [])
    review.risk_score = max(review.risk_score or 0.0, round(score, 4))
    Review.objects.filter(id=review.id).update(
        risk_reasons=review.risk_reasons, risk_score=review.risk_score
    )
    emit_review_status_changed(review=review, previous=previous)
    return True


# --------------------------------------------------------------------------- #
# Decisions


def reports_settle(*, case: Case, decision: str) -> int:
    """Mark the undecided reports of a decided extortion case confirmed or dismissed.

    The decision itself moves the case's reviews (apps.cases.services.case_decide
    publishes held ones on a dismissal); a dismissed report then lowers its
    owner's credibility and never counts as evidence again. Returns the number
    of reports settled.
    """
    status = {
        "confirmed": ThreatReport.Status.CONFIRMED,
        "dismissed": ThreatReport.Status.DISMISSED,
    }.get(decision)
    if status is None:
        return 0
    now = timezone.now()
    return ThreatReport.objects.filter(cases=case, status__in=UNDECIDED).update(
        status=status, decided_at=now, updated_at=now
    )


# --------------------------------------------------------------------------- #
# Sweep


def reports_needing_linkage(*, older_than: timedelta) -> list[int]:
    """Undecided reports whose linkage never ran (their message may have been lost)."""
    return list(
        ThreatReport.objects.filter(
            status__in=UNDECIDED, linked_at__isnull=True,
            created_at__lte=timezone.now() - older_than,
        ).order_by("id").values_list("id", flat=True)[:5000]
    )
