"""Case upsert by fingerprint, and the audit log every change goes through."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from apps.partners.services import webhook_emit

from .models import Case, CaseEvent


@dataclass(frozen=True)
class CaseFinding:
    """What a detector found, in database terms, ready to become a case."""

    kind: str
    member_keys: tuple[str, ...]  # what identifies the finding (e.g. reviewer ids)
    severity: float
    reasons: list[dict]
    summary: str = ""
    review_ids: tuple[int, ...] = ()
    reviewer_ids: tuple[int, ...] = ()
    establishment_ids: tuple[int, ...] = ()
    partner_ids: tuple[int, ...] = field(default=())


def case_fingerprint(kind: str, member_keys: Iterable[str]) -> str:
    material = kind + "|" + "|".join(sorted(set(member_keys)))
    return hashlib.sha256(material.encode()).hexdigest()


def case_payload(case: Case) -> dict:
    return {
        "id": case.pk,
        "kind": case.kind,
        "status": case.status,
        "severity": round(case.severity, 4),
        "reasons": [{"code": r["code"], "detail": r.get("en", "")} for r in case.reasons],
    }


@transaction.atomic
def case_upsert(*, finding: CaseFinding) -> tuple[Case, bool]:
    """Open a case for a finding, or extend the case with the same fingerprint.

    Returns (case, opened). Members are only ever added; a decided case keeps
    its decision (a dismissed case is reopened only by new evidence, which the
    caller expresses as new members).
    """
    fingerprint = case_fingerprint(finding.kind, finding.member_keys)
    case, opened = Case.objects.select_for_update().get_or_create(
        fingerprint=fingerprint,
        defaults={
            "kind": finding.kind,
            "severity": finding.severity,
            "reasons": finding.reasons,
            "summary": finding.summary,
        },
    )
    before = set(case.reviews.values_list("id", flat=True)) if not opened else set()
    case.partners.add(*finding.partner_ids)
    case.establishments.add(*finding.establishment_ids)
    case.reviewers.add(*finding.reviewer_ids)
    case.reviews.add(*finding.review_ids)
    added = sorted(set(finding.review_ids) - before)
    if opened:
        CaseEvent.objects.create(
            case=case, action="opened", after={"severity": case.severity, "reviews": added}
        )
        for partner in case.partners.all():
            webhook_emit(
                partner=partner,
                event="case.opened",
                data=case_payload(case),
                dedupe_key=f"case.opened:{case.pk}:{partner.pk}",
            )
    elif added or finding.severity > case.severity:
        previous = {"severity": case.severity}
        case.severity = max(case.severity, finding.severity)
        case.reasons = finding.reasons
        case.save(update_fields=["severity", "reasons", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            action="extended",
            before=previous,
            after={"severity": case.severity, "reviews_added": added},
        )
    return case, opened
