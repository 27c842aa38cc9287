"""Threat reports: filing (API and portal), their links to reviews, their settlement.

The only code that writes reports, evidence and report-review links. Finding
the links (matching a report's guest to reviews, scoring them, holding them,
opening the extortion case) is detection's work: apps/detection/linkage.py,
which records what it found through the services below. Filing returns the
report; scheduling its linkage is the caller's business.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.cases.models import Appeal, Case
from apps.cases.services import appeal_file
from apps.core.emails import email_schedule
from apps.core.exceptions import ApplicationError
from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews import pii
from apps.reviews.models import Review
from ml.text import normalize

from .evidence import CheckedEvidence, check_evidence
from .models import (
    EvidenceAccess,
    Notification,
    ReportReviewLink,
    ThreatEvidence,
    ThreatReport,
)
from .selectors import report_recipients

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
    """File a validated report with its evidence (the caller schedules its linkage).

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
            _("The request is invalid."),
            fields={"guest": {"non_field_errors": [
                _("Give at least one of name, email, booking_ref or reviewer_handle.")]}},
        )
    checked = check_evidence(list(files))
    identifiers = _guest_identifiers(guest)
    content_hash = _content_hash(establishment, payload, identifiers,
                                 [item.sha256 for item in checked])
    try:
        with transaction.atomic():
            report = ThreatReport.objects.create(
                partner=partner,
                establishment=establishment,
                reporter=reporter,
                channel=payload["channel"],
                message_text=payload["message_text"],
                demand=payload["demand"],
                received_at=payload["received_at"],
                content_hash=content_hash,
                **identifiers,
            )
            evidence = [_store_evidence(report=report, item=item) for item in checked]
    except IntegrityError:
        # The same report, filed a moment ago by a concurrent request.
        return ThreatReport.objects.get(partner=partner, content_hash=content_hash)
    # What a read of the new report would fetch, known without reading it: its
    # evidence is what was just stored, and nothing links it to a review or a
    # case before its linkage runs.
    _prime_relations(report, links=[], evidence=evidence, cases=[])
    return report


def _prime_relations(report: ThreatReport, **related: list) -> None:
    """Fill ``report``'s related managers with known rows, as a prefetch would."""
    cache = report.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(report, name).all()  # lazy: no query is run
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset


def _content_hash(establishment: Establishment, payload: dict, identifiers: dict,
                  evidence_digests: list[str]) -> str:
    received = payload["received_at"]
    material = {
        "establishment": establishment.pk, **identifiers,
        "channel": payload["channel"], "message_text": payload["message_text"],
        "demand": payload["demand"],
        "received_at": received.isoformat() if hasattr(received, "isoformat") else received,
        "evidence": sorted(evidence_digests),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def threat_report_already_filed(*, partner: Partner, establishment: Establishment,
                                payload: dict, files: Iterable = ()) -> ThreatReport | None:
    """The report already filed with exactly this content (evidence included), if any.

    Checks the evidence like filing does (so a bad file raises the same errors).
    """
    checked = check_evidence(list(files))
    content_hash = _content_hash(establishment, payload,
                                 _guest_identifiers(payload.get("guest") or {}),
                                 [item.sha256 for item in checked])
    for upload in files:
        upload.seek(0)
    return ThreatReport.objects.filter(partner=partner, content_hash=content_hash).first()


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


def evidence_access_record(*, evidence: ThreatEvidence, user, via: str,
                           case_id: int | None = None) -> EvidenceAccess:
    """Log that ``user`` opened ``evidence`` (every opening, previews included)."""
    return EvidenceAccess.objects.create(evidence=evidence, user=user, via=via, case_id=case_id)


# --------------------------------------------------------------------------- #
# What linkage found (apps/detection/linkage.py calls these)


@dataclass(frozen=True)
class LinkRecord:
    report_id: int
    review_id: int
    methods: str  # "email,booking_ref", ...
    name_score: float | None
    strength: float  # credibility-weighted link score in [0, 1]


def report_links_save(*, links: list[LinkRecord]) -> None:
    """Upsert report-review links (a re-run updates them, never duplicates)."""
    if not links:
        return
    existing = {
        (link.report_id, link.review_id): link
        for link in ReportReviewLink.objects.filter(
            report_id__in={x.report_id for x in links}, review_id__in={x.review_id for x in links}
        )
    }
    for x in links:
        link = existing.get((x.report_id, x.review_id))
        if link is None:
            ReportReviewLink.objects.create(
                report_id=x.report_id, review_id=x.review_id, methods=x.methods,
                name_score=x.name_score, strength=x.strength,
            )
        elif (link.methods, link.name_score, link.strength) != (x.methods, x.name_score,
                                                                x.strength):
            link.methods, link.name_score, link.strength = x.methods, x.name_score, x.strength
            link.save(update_fields=["methods", "name_score", "strength", "updated_at"])


def report_link_mark_held(*, report_id: int, review_id: int) -> None:
    """Record that this report's link is what held the review, and tell the owners
    (once: a link already marked held is not news)."""
    marked = ReportReviewLink.objects.filter(
        report_id=report_id, review_id=review_id, held=False
    ).update(held=True, updated_at=timezone.now())
    if marked:
        report = ThreatReport.objects.select_related("establishment", "reporter").get(
            id=report_id)
        review = Review.objects.only("id", "rating", "title").get(id=review_id)
        notify_owners(report=report, kind=Notification.Kind.REVIEW_HELD, review=review,
                      values={"rating": review.rating, "title": review.title},
                      dedupe=f"held:{report_id}:{review_id}")


def reports_mark_linked(*, linked_ids: list[int], checked_ids: list[int]) -> None:
    """Reports whose guest's reviews were found move open -> linked; a checked
    report records when linkage first ran (the sweep looks for those it never did).

    Only rows that change are written: every scoring batch re-checks the live
    reports near its reviews, and rewriting them locked those rows until the
    batch committed, so two workers scoring near one report took turns (seen
    waiting 8-12 s at a time under load)."""
    now = timezone.now()
    ThreatReport.objects.filter(id__in=linked_ids, status=ThreatReport.Status.OPEN).update(
        status=ThreatReport.Status.LINKED, updated_at=now
    )
    ThreatReport.objects.filter(id__in=checked_ids, linked_at__isnull=True).update(linked_at=now)


def reports_attach_case(*, report_ids: list[int], case: Case) -> None:
    for report in ThreatReport.objects.filter(id__in=report_ids):
        report.cases.add(case)


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
    undecided = ThreatReport.objects.filter(cases=case, status__in=ThreatReport.UNDECIDED)
    ids = list(undecided.values_list("id", flat=True))
    settled = ThreatReport.objects.filter(id__in=ids, status__in=ThreatReport.UNDECIDED).update(
        status=status, decided_at=now, updated_at=now
    )
    for report in ThreatReport.objects.filter(id__in=ids, status=status).select_related(
            "establishment", "reporter"):
        notify_owners(report=report, kind=Notification.Kind.REPORT_DECIDED,
                      values={"decision": status},
                      dedupe=f"decided:{report.id}:{status}:{now.isoformat()}")
    return settled


# --------------------------------------------------------------------------- #
# Owner notifications


def notify_owners(*, report: ThreatReport, kind: str, values: dict, dedupe: str,
                  review: Review | None = None) -> list[Notification]:
    """A notification for each owner of the report's establishment (and its filer),
    and an e-mail in each one's language after commit. An owner already told of
    ``dedupe`` is not told again. Returns the new notifications."""
    values = {**values, "establishment": report.establishment.name, "report_id": report.id}
    created = []
    for user, language in report_recipients(report=report):
        notification, new = Notification.objects.get_or_create(
            user=user, dedupe_key=dedupe[:120],
            defaults={"kind": kind, "report": report, "review": review, "values": values},
        )
        if not new:
            continue
        created.append(notification)
        if user.email:
            email_schedule(
                to=user.email, template="reports/email/notification", language=language,
                context={"message": {"kind": kind, "values": values}, "values": values,
                         "path": reverse("portal:report_detail", args=[report.id])},
            )
    return created


def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (all of them, or ``ids``) read."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    return qs.update(read_at=timezone.now())


# --------------------------------------------------------------------------- #
# Appeals of dismissed reports


def report_appeal_file(*, report: ThreatReport, user, statement: str) -> Appeal:
    """The owner appeals the dismissal of their report, once (cases.appeal_file)."""
    case = (report.cases.filter(kind=Case.Kind.EXTORTION)
            .filter(Q(status=Case.Status.DISMISSED) | Q(appeals__status=Appeal.Status.OPEN))
            .distinct().order_by("-decided_at", "-id").first())
    if report.status != ThreatReport.Status.DISMISSED or case is None:
        raise ApplicationError("appeal_not_allowed",
                               _("Only a dismissed report may be appealed."), status=409)
    return appeal_file(case=case, kind=Appeal.Kind.REPORT_DISMISSED,
                       subject=report_appeal_subject(report), statement=statement,
                       filed_by=user)


def report_appeal_subject(report: ThreatReport) -> str:
    return f"report:{report.pk}"


def report_appeal_settle(*, appeal: Appeal, outcome: str) -> None:
    """An appeal of a dismissed report was decided: overturned confirms the report;
    either way its owners are told."""
    report_id = int(appeal.subject.split(":", 1)[1])
    report = ThreatReport.objects.select_related("establishment", "reporter").get(id=report_id)
    if outcome == Appeal.Status.OVERTURNED:
        now = timezone.now()
        ThreatReport.objects.filter(id=report_id).update(
            status=ThreatReport.Status.CONFIRMED, decided_at=now, updated_at=now)
    notify_owners(report=report, kind=Notification.Kind.APPEAL_DECIDED,
                  values={"outcome": outcome}, dedupe=f"appeal:{appeal.pk}")
