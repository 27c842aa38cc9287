"""Cases: upsert by fingerprint and membership, moderator decisions and their
effects, assignment; every change goes through the append-only audit log."""

from __future__ import annotations

import hashlib
import statistics
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation

from apps.core.exceptions import ApplicationError
from apps.core.reasons import reasons_payload
from apps.partners.services import webhook_emit
from apps.reviews.models import Review
from apps.reviews.services import reviewers_flag, reviews_apply_decision

from .models import Case, CaseEvent, CaseMember, DecisionLabel
from .signals import case_decided


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
    """The body of ``case.opened``/``case.decided``; reasons in the one output shape,
    in the service's default language (a webhook has no reader)."""
    with translation.override(settings.LANGUAGE_CODE):
        reasons = reasons_payload(case.reasons)
    return {
        "id": case.pk,
        "kind": case.kind,
        "status": case.status,
        "severity": round(case.severity, 4),
        "reasons": reasons,
    }


# --- Upsert ----------------------------------------------------------------------


class UpsertOutcome:
    OPENED = "opened"
    EXTENDED = "extended"
    REOPENED = "reopened"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class CaseUpsert:
    case: Case
    outcome: str  # one of UpsertOutcome
    reviews_added: tuple[int, ...] = ()
    members_added: tuple[str, ...] = ()


def _overlapping_case_id(*, kind: str, keys: list[str]) -> int | None:
    """The case of this kind sharing the most member keys with ``keys`` (oldest on ties)."""
    row = (
        CaseMember.objects.filter(case__kind=kind, key__in=keys)
        .values("case_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "case_id")
        .first()
    )
    return row["case_id"] if row else None


def _add_members(case: Case, finding: CaseFinding, keys: Iterable[str]) -> None:
    CaseMember.objects.bulk_create(
        [CaseMember(case=case, key=key) for key in keys], ignore_conflicts=True
    )
    case.partners.add(*finding.partner_ids)
    case.establishments.add(*finding.establishment_ids)
    case.reviewers.add(*finding.reviewer_ids)
    case.reviews.add(*finding.review_ids)


def _announce_opened(case: Case, *, dedupe_suffix: str = "") -> None:
    """``case.opened`` to every partner of the case; a partner told once is not told again."""
    for partner in case.partners.all():
        webhook_emit(
            partner=partner,
            event="case.opened",
            data=case_payload(case),
            dedupe_key=f"case.opened:{case.pk}{dedupe_suffix}:{partner.pk}",
        )


@transaction.atomic
def case_upsert_outcome(*, finding: CaseFinding) -> CaseUpsert:
    """Open a case for a finding, or extend the case it continues (``_upsert``).

    One incident, one case: a per-reviewer finding about a member of an open
    ring or bombing case extends that case instead; and an open case absorbs
    the open cases that share its members (``_absorb_related``).
    """
    if finding.kind == Case.Kind.ANOMALOUS_REVIEWER:
        incident = (
            Case.objects.filter(kind__in=INCIDENT_KINDS, status=Case.Status.OPEN,
                                member_keys__key__in=finding.member_keys)
            .order_by("-severity", "pk").first()
        )
        if incident is not None:
            finding = replace(finding, kind=incident.kind,
                              member_keys=tuple(incident.member_keys.values_list("key", flat=True)),
                              severity=min(finding.severity, incident.severity),
                              reasons=incident.reasons)
    result = _upsert(finding)
    if result.case.status == Case.Status.OPEN:
        _absorb_related(result.case, finding)
    return result


def _upsert(finding: CaseFinding) -> CaseUpsert:
    """Open a case for a finding, or extend the case it continues.

    The finding continues a case of the same kind with exactly its member keys
    (the fingerprint), or else the case sharing the most member keys with it:
    so re-running a detector never opens a twin and a grown ring extends its
    case. Members are only ever added. A decided case keeps its decision unless
    the finding brings new evidence (members or reviews it did not have); then
    it is reopened, with a "reopened" event.
    """
    keys = sorted(set(finding.member_keys))
    if not keys:
        raise ApplicationError("empty_finding", "A finding needs at least one member key.")
    fingerprint = case_fingerprint(finding.kind, keys)

    case = Case.objects.select_for_update().filter(fingerprint=fingerprint).first()
    exact = case is not None
    if case is None:
        overlapping = _overlapping_case_id(kind=finding.kind, keys=keys)
        if overlapping is not None:
            case = Case.objects.select_for_update().get(pk=overlapping)
    if case is None:
        case, opened = Case.objects.select_for_update().get_or_create(
            fingerprint=fingerprint,
            defaults={
                "kind": finding.kind,
                "severity": finding.severity,
                "reasons": finding.reasons,
                "summary": finding.summary[:300],
            },
        )
        if opened:
            _add_members(case, finding, keys)
            CaseEvent.objects.create(
                case=case,
                action="opened",
                after={"severity": case.severity, "reviews": sorted(finding.review_ids),
                       "members": keys},
            )
            _announce_opened(case)
            return CaseUpsert(case, UpsertOutcome.OPENED, tuple(sorted(finding.review_ids)),
                              tuple(keys))
        exact = True  # a concurrent upsert opened it first

    # A case found by its fingerprint has these keys by definition (cases opened
    # before member keys were recorded have no CaseMember rows yet).
    known_keys = set(keys) if exact else set(case.member_keys.values_list("key", flat=True))
    new_keys = sorted(set(keys) - known_keys)
    new_reviews = sorted(set(finding.review_ids) - set(case.reviews.values_list("id", flat=True)))
    new_reviewers = set(finding.reviewer_ids) - set(case.reviewers.values_list("id", flat=True))
    new_evidence = bool(new_keys or new_reviews or new_reviewers)

    if case.status != Case.Status.OPEN:
        if not new_evidence:
            if exact:
                CaseMember.objects.bulk_create(
                    [CaseMember(case=case, key=key) for key in keys], ignore_conflicts=True
                )
            return CaseUpsert(case, UpsertOutcome.UNCHANGED)
        before = {
            "status": case.status,
            "severity": case.severity,
            "decided_at": case.decided_at.isoformat() if case.decided_at else None,
            "decided_by": case.decided_by_id,
            "decision_note": case.decision_note,
        }
        _add_members(case, finding, keys)
        case.status = Case.Status.OPEN
        case.decided_at = case.decided_by = None
        case.decision_note = ""
        case.severity = max(case.severity, finding.severity)
        case.reasons = finding.reasons
        case.fingerprint = _grown_fingerprint(case, known_keys | set(keys))
        case.save()
        event = CaseEvent.objects.create(
            case=case,
            action="reopened",
            before=before,
            after={"status": case.status, "severity": case.severity,
                   "reviews_added": new_reviews, "members_added": new_keys},
            note="New evidence arrived after the decision.",
        )
        _announce_opened(case, dedupe_suffix=f":reopened-{event.pk}")
        return CaseUpsert(case, UpsertOutcome.REOPENED, tuple(new_reviews), tuple(new_keys))

    _add_members(case, finding, keys)
    if not new_evidence and finding.severity <= case.severity:
        _announce_opened(case)  # only partners new to the case hear of it
        return CaseUpsert(case, UpsertOutcome.UNCHANGED)
    previous = {"severity": case.severity}
    case.severity = max(case.severity, finding.severity)
    case.reasons = finding.reasons
    if new_keys:
        case.fingerprint = _grown_fingerprint(case, known_keys | set(keys))
    case.save(update_fields=["severity", "reasons", "fingerprint", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        action="extended",
        before=previous,
        after={"severity": case.severity, "reviews_added": new_reviews,
               "members_added": new_keys},
    )
    _announce_opened(case)
    return CaseUpsert(case, UpsertOutcome.EXTENDED, tuple(new_reviews), tuple(new_keys))


#: Cases of these kinds are one incident each: the per-reviewer cases of their
#: members (opened when a member's review was held before the incident was
#: seen) join them.
INCIDENT_KINDS = (Case.Kind.SOCK_PUPPET_RING, Case.Kind.REVIEW_BOMBING)


def cases_merge(*, into: Case, cases: Iterable[Case], note: str) -> list[int]:
    """Merge open cases into ``into``: their reviews, reviewers, establishments,
    partners and member keys move over, they end ``merged`` (pointing at it),
    and both sides record a ``merged`` audit event. Returns the merged case ids."""
    merged: list[int] = []
    for case in cases:
        if case.pk == into.pk:
            continue
        moved = Case.objects.filter(pk=case.pk, status=Case.Status.OPEN).update(
            status=Case.Status.MERGED, merged_into=into, updated_at=timezone.now()
        )
        if not moved:
            continue  # decided or merged meanwhile: it keeps its own outcome
        into.reviews.add(*case.reviews.all())
        into.reviewers.add(*case.reviewers.all())
        into.establishments.add(*case.establishments.all())
        into.partners.add(*case.partners.all())
        CaseMember.objects.bulk_create(
            [CaseMember(case=into, key=key) for key in case.member_keys.values_list("key", flat=True)],
            ignore_conflicts=True,
        )
        CaseEvent.objects.create(case=case, action="merged", before={"status": Case.Status.OPEN},
                                 after={"status": Case.Status.MERGED, "into": into.pk}, note=note)
        CaseEvent.objects.create(case=into, action="merged", after={"from": case.pk}, note=note)
        merged.append(case.pk)
    if merged:
        into.severity = max([into.severity] + [c.severity for c in Case.objects.filter(
            pk__in=merged)])
        into.save(update_fields=["severity", "updated_at"])
    return merged


def _absorb_related(case: Case, finding: CaseFinding) -> None:
    """One incident, one case: open cases of the same kind sharing members, and open
    per-reviewer cases of an incident's members, join it."""
    keys = set(finding.member_keys)
    same_kind = Case.objects.filter(
        kind=case.kind, status=Case.Status.OPEN, member_keys__key__in=keys
    ).exclude(pk=case.pk).distinct()
    cases_merge(into=case, cases=list(same_kind.order_by("pk")),
                note="Shares members with this case.")
    if case.kind in INCIDENT_KINDS and finding.reviewer_ids:
        reviewer_keys = [f"reviewer:{r}" for r in finding.reviewer_ids]
        per_reviewer = Case.objects.filter(
            kind=Case.Kind.ANOMALOUS_REVIEWER, status=Case.Status.OPEN,
            member_keys__key__in=reviewer_keys,
        ).distinct()
        cases_merge(into=case, cases=list(per_reviewer.order_by("pk")),
                    note="The reviewer belongs to this incident.")


def _grown_fingerprint(case: Case, keys: set[str]) -> str:
    """The fingerprint of the grown member set, so the next identical run matches
    exactly; kept unchanged in the unlikely event another case holds it."""
    fingerprint = case_fingerprint(case.kind, keys)
    if Case.objects.filter(fingerprint=fingerprint).exclude(pk=case.pk).exists():
        return case.fingerprint
    return fingerprint


def case_upsert(*, finding: CaseFinding) -> tuple[Case, bool]:
    """``case_upsert_outcome`` for callers that only need (case, opened)."""
    result = case_upsert_outcome(finding=finding)
    return result.case, result.outcome == UpsertOutcome.OPENED


# --- Decisions -------------------------------------------------------------------


class Decision:
    CONFIRMED = Case.Status.CONFIRMED.value
    DISMISSED = Case.Status.DISMISSED.value
    ALL = (CONFIRMED, DISMISSED)


@dataclass(frozen=True)
class DecisionEffect:
    """What a decision does to the case's reviews and reviewers."""

    review_status: str  # the status the case's reviews move to ...
    from_statuses: tuple[str, ...]  # ... from any of these
    flags_reviewers: bool


# Confirming removes every review of the case that is still visible or waiting
# (a pending one would otherwise be published by the scorer later) and flags
# its reviewers; dismissing publishes what was held and leaves the rest as it is.
DECISION_EFFECTS: dict[str, DecisionEffect] = {
    Decision.CONFIRMED: DecisionEffect(
        Review.Status.REMOVED,
        (Review.Status.PENDING, Review.Status.HELD, Review.Status.PUBLISHED),
        flags_reviewers=True,
    ),
    Decision.DISMISSED: DecisionEffect(
        Review.Status.PUBLISHED, (Review.Status.HELD,), flags_reviewers=False
    ),
}


@dataclass(frozen=True)
class DecisionOutcome:
    case: Case
    decision: str
    event: CaseEvent
    reviews_moved: dict[int, tuple[str, str]]  # review id -> (before, after)
    reviewers_flagged: tuple[int, ...]


def _validate_decision(decision: str, note: str) -> str:
    if decision not in Decision.ALL:
        raise ApplicationError(
            "invalid_decision", f"A decision is one of {', '.join(Decision.ALL)}.",
            fields={"decision": [f"Unknown decision {decision!r}."]},
        )
    note = (note or "").strip()
    if not note:
        raise ApplicationError(
            "note_required", "Say why: a decision needs a note.",
            fields={"note": ["This field is required."]},
        )
    return note


def decision_features(case: Case, reviews: list[Review]) -> dict:
    """What the detectors saw, kept beside the label for later calibration."""
    ratings = [r.rating for r in reviews]
    risks = [r.risk_score for r in reviews if r.risk_score is not None]
    now = timezone.now()
    return {
        "severity": case.severity,
        "reasons": {r["code"]: r.get("score") for r in case.reasons},
        "n_reviews": len(reviews),
        "n_reviewers": case.reviewers.count(),
        "n_establishments": case.establishments.count(),
        "n_partners": case.partners.count(),
        "mean_rating": statistics.fmean(ratings) if ratings else None,
        "share_low_rating": sum(r <= 2 for r in ratings) / len(ratings) if ratings else None,
        "share_verified_stay": (
            sum(bool(r.booking_ref_hash) for r in reviews) / len(reviews) if reviews else None
        ),
        "mean_risk": statistics.fmean(risks) if risks else None,
        "max_risk": max(risks) if risks else None,
        "review_status": dict(Counter(r.status for r in reviews)),
        "hours_open": round((now - case.opened_at).total_seconds() / 3600, 2),
    }


def case_decide(*, case: Case, decision: str, actor, note: str) -> DecisionOutcome:
    """Confirm or dismiss an open case and apply it to its reviews and reviewers.

    Confirm: the case's reviews are removed and its reviewers flagged. Dismiss:
    its held reviews are published. Both record a CaseEvent (actor, before,
    after, note) and a DecisionLabel, tell every partner of the case
    (``case.decided``) and of each review that moved (``review.status_changed``),
    and send ``case_decided``. Raises ApplicationError: ``note_required``,
    ``invalid_decision``, ``case_already_decided`` (409; the status moves with a
    guarded UPDATE, so of two moderators deciding at once exactly one wins).
    """
    note = _validate_decision(decision, note)
    effect = DECISION_EFFECTS[decision]
    with transaction.atomic():
        now = timezone.now()
        moved = Case.objects.filter(pk=case.pk, status=Case.Status.OPEN).update(
            status=decision, decided_at=now, decided_by=actor, decision_note=note, updated_at=now
        )
        if not moved:
            current = Case.objects.filter(pk=case.pk).values_list("status", flat=True).first()
            raise ApplicationError(
                "case_already_decided",
                f"Case #{case.pk} is already {current or 'gone'}; it cannot be decided again.",
                status=409,
            )
        case.refresh_from_db()
        reviews = list(case.reviews.select_related("partner").order_by("id"))
        features = decision_features(case, reviews)
        flagged: list[int] = []
        if effect.flags_reviewers:
            reviewer_ids = set(case.reviewers.values_list("id", flat=True))
            reviewer_ids |= {r.reviewer_id for r in reviews}
            flagged = reviewers_flag(reviewer_ids=reviewer_ids)
        # A doubled call stops at the guarded UPDATE above, so a fresh token per
        # decision is enough to tell partners of each move exactly once.
        moved = reviews_apply_decision(
            review_ids=[r.id for r in reviews], status=effect.review_status,
            allowed_from=effect.from_statuses, case_id=case.pk, decision_token=uuid.uuid4().hex,
        )
        event = CaseEvent.objects.create(
            case=case,
            actor=actor,
            action=decision,
            before={"status": Case.Status.OPEN,
                    "reviews": {str(k): v[0] for k, v in sorted(moved.items())}},
            after={"status": decision,
                   "reviews": {str(k): v[1] for k, v in sorted(moved.items())},
                   "reviewers_flagged": flagged},
            note=note,
        )
        DecisionLabel.objects.create(
            case=case, kind=case.kind, label=decision, features=features, decided_by=actor
        )

        # One decision, one event id: the dedupe keys make a retried or doubled
        # call emit nothing more (and a later decision of a reopened case is new).
        for partner in case.partners.all():
            webhook_emit(
                partner=partner,
                event="case.decided",
                data={**case_payload(case), "decision": decision,
                      "decided_at": now.isoformat()},
                dedupe_key=f"case.decided:{case.pk}:{event.pk}:{partner.pk}",
            )
        case_decided.send(sender=Case, case=case, decision=decision, actor=actor, note=note)

    return DecisionOutcome(
        case=case,
        decision=decision,
        event=event,
        reviews_moved=moved,
        reviewers_flagged=tuple(flagged),
    )


@dataclass(frozen=True)
class BulkDecision:
    decided: tuple[DecisionOutcome, ...]
    skipped: tuple[int, ...]  # ids of cases that were no longer open


def cases_decide_bulk(*, cases: Iterable[Case], decision: str, actor, note: str) -> BulkDecision:
    """Decide many cases with one note; each case in its own transaction.

    Cases already decided (perhaps by someone else meanwhile) are skipped and
    reported, not an error: the rest still apply.
    """
    note = _validate_decision(decision, note)
    decided: list[DecisionOutcome] = []
    skipped: list[int] = []
    for case in cases:
        try:
            decided.append(case_decide(case=case, decision=decision, actor=actor, note=note))
        except ApplicationError as exc:
            if exc.code != "case_already_decided":
                raise
            skipped.append(case.pk)
    return BulkDecision(tuple(decided), tuple(skipped))


# --- Assignment ------------------------------------------------------------------


@transaction.atomic
def case_assign(*, case: Case, assignee, actor) -> bool:
    """Assign an open case to ``assignee`` (None: unassign). True if it changed."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != Case.Status.OPEN:
        raise ApplicationError(
            "case_already_decided", f"Case #{case.pk} is {case.status}; only open cases are assigned.",
            status=409,
        )
    new_id = assignee.pk if assignee is not None else None
    if case.assigned_to_id == new_id:
        return False
    before = {"assigned_to": case.assigned_to_id}
    case.assigned_to = assignee
    case.save(update_fields=["assigned_to", "updated_at"])
    CaseEvent.objects.create(
        case=case, actor=actor, action="assigned", before=before, after={"assigned_to": new_id}
    )
    return True
