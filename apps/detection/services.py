"""Per-review scoring: database -> ml/ -> risk, status, cases, webhooks.

The task calls ``reviews_score`` with a batch of ids. It is idempotent: only
reviews still ``pending`` are scored, and the status moves with a guarded
UPDATE, so a task delivered twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert
from apps.partners.services import WebhookEvent, webhook_emit, webhooks_emit_many
from apps.reviews.models import Review
from ml.extortion import cue_strength
from ml.features import review_features
from ml.fusion import Reason, RiskResult, review_risk
from ml.text import NearDuplicateDetector, extortion_cues, guess_language

from .columns import load_review_context

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoringOutcome:
    scored: int
    published: int
    held: int


def reason_dicts(reasons: list[Reason]) -> list[dict]:
    return [{"code": r.code, "score": round(r.score, 4), "en": r.en, "fr": r.fr} for r in reasons]


def hold_threshold(partner) -> float:
    if partner.hold_threshold is not None:
        return partner.hold_threshold
    return settings.REVIEW_HOLD_THRESHOLD


def review_status_payload(review: Review, previous: str) -> dict:
    return {
        "external_id": review.external_id,
        "status": review.status,
        "previous_status": previous,
        "risk": {"score": review.risk_score, "reasons": review.risk_reasons},
    }


def status_change_key(review: Review, previous: str) -> str:
    return f"review.status_changed:{review.pk}:{previous}->{review.status}"


def emit_review_status_changed(*, review: Review, previous: str) -> None:
    webhook_emit(
        partner=review.partner,
        event="review.status_changed",
        data=review_status_payload(review, previous),
        dedupe_key=status_change_key(review, previous),
    )


def reviews_score(*, review_ids: list[int]) -> ScoringOutcome:
    """Score the still-pending reviews among ``review_ids`` and publish or hold each.

    One transaction per batch: the pending rows are locked (rows another worker
    already holds are skipped, it is scoring them), scored together by ml/, and
    written back with one bulk UPDATE; webhooks and cases ride the same commit.
    """
    with transaction.atomic():
        pending = list(
            Review.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(id__in=review_ids, status=Review.Status.PENDING)
            .select_related("partner", "reviewer")
            .order_by("id")
        )
        if not pending:
            return ScoringOutcome(0, 0, 0)
        risk = _risk_of(pending)
        _fill_missing_languages(pending)
        now = timezone.now()
        for review, score, reasons in zip(pending, risk.score.tolist(), risk.reasons, strict=True):
            review.risk_score = score
            review.risk_reasons = reason_dicts(reasons)
            review.scored_at = review.status_changed_at = now
            review.status = (
                Review.Status.HELD
                if score >= hold_threshold(review.partner)
                else Review.Status.PUBLISHED
            )
        Review.objects.bulk_update(
            pending,
            ["risk_score", "risk_reasons", "scored_at", "status", "status_changed_at", "language"],
            batch_size=500,
        )
        webhooks_emit_many(
            events=[
                WebhookEvent(
                    partner=review.partner,
                    event="review.status_changed",
                    data=review_status_payload(review, Review.Status.PENDING),
                    dedupe_key=status_change_key(review, Review.Status.PENDING),
                )
                for review in pending
            ]
        )
        held = [r for r in pending if r.status == Review.Status.HELD]
        for review in held:
            _open_reviewer_case(review=review)
        # Match the scored reviews against owners' open threat reports in the same
        # transaction: if linkage fails, scoring rolls back too and the retried
        # task finds the reviews still pending, so no review escapes linkage.
        from apps.reports.services import reports_link_reviews

        reports_link_reviews(review_ids=[r.id for r in pending])
    logger.info("scored %d reviews: %d held", len(pending), len(held))
    return ScoringOutcome(len(pending), len(pending) - len(held), len(held))


def _risk_of(reviews: list[Review]) -> RiskResult:
    """Features from the reviews and their reviewers' and establishments' history -> risk."""
    loaded = load_review_context(review_ids=[r.id for r in reviews])
    features = review_features(loaded.columns)
    row_of = {rid: i for i, rid in enumerate(loaded.review_ids.tolist())}
    rows = np.array([row_of[r.id] for r in reviews], dtype=np.int64)
    # Demand-and-threat language in the review itself ("refund me or this stays"),
    # EN/FR; a complaint that merely mentions a refund has no cue.
    text = cue_strength(extortion_cues([f"{r.title}\n{r.text}" for r in reviews]))
    copied = _near_duplicate_similarity(loaded.columns, rows)
    return review_risk(
        features.take(rows), extra={"extortion_text": text, "near_duplicate_text": copied}
    )


#: Shorter texts ("Great stay!") coincide innocently and are not compared.
MIN_DUPLICATE_TEXT_CHARS = 60
#: Copied texts of a ring land close together in time, so each batch compares
#: its reviews with the most recent part of their context only: MinHash over
#: the whole history of a popular establishment cost ~2 s a review (bench).
DUPLICATE_CONTEXT_ROWS = 500


def _near_duplicate_similarity(columns, rows: np.ndarray) -> np.ndarray:
    """For each target row, the highest MinHash similarity of its text to another
    reviewer's review among the targets and the most recent context; 0 when none."""
    when = np.nan_to_num(columns.created_at, nan=-np.inf)
    recent = np.argsort(-when, kind="stable")[:DUPLICATE_CONTEXT_ROWS]
    compare = np.union1d(recent, rows)
    texts = [
        columns.text[k] if len(columns.text[k]) >= MIN_DUPLICATE_TEXT_CHARS else ""
        for k in compare.tolist()
    ]
    i, j, similarity = NearDuplicateDetector(threshold=0.6).fit(texts).pairs_
    other = columns.reviewer[compare[i]] != columns.reviewer[compare[j]]
    best = np.zeros(len(compare), dtype=np.float64)
    np.maximum.at(best, i[other], similarity[other])
    np.maximum.at(best, j[other], similarity[other])
    return best[np.searchsorted(compare, rows)]


def _fill_missing_languages(reviews: list[Review]) -> None:
    """Reviews sent without ``language`` get the one guessed from their text ("und" if unsure).

    In memory only: the caller's bulk update writes it.
    """
    unknown = [r for r in reviews if not r.language]
    for review, language in zip(
        unknown, guess_language([f"{r.title} {r.text}" for r in unknown]), strict=True
    ):
        review.language = language


def _open_reviewer_case(*, review: Review) -> None:
    """A held review needs a moderator: open (or extend) its reviewer's case."""
    case_upsert(
        finding=CaseFinding(
            kind=Case.Kind.ANOMALOUS_REVIEWER,
            member_keys=(f"reviewer:{review.reviewer_id}",),
            severity=float(review.risk_score or 0.0),
            reasons=review.risk_reasons,
            summary=f"Held review {review.external_id} by {review.reviewer}",
            review_ids=(review.id,),
            reviewer_ids=(review.reviewer_id,),
            establishment_ids=(review.establishment_id,),
            partner_ids=(review.partner_id,),
        )
    )
