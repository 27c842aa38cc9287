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
from apps.partners.services import webhook_emit
from apps.reviews.models import Review
from apps.reviews.services import review_set_status
from ml.features import review_features
from ml.fusion import Reason, review_risk
from ml.text import guess_language

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


def emit_review_status_changed(*, review: Review, previous: str) -> None:
    webhook_emit(
        partner=review.partner,
        event="review.status_changed",
        data=review_status_payload(review, previous),
        dedupe_key=f"review.status_changed:{review.pk}:{previous}->{review.status}",
    )


def reviews_score(*, review_ids: list[int]) -> ScoringOutcome:
    """Score the still-pending reviews among ``review_ids`` and publish or hold each."""
    pending = list(
        Review.objects.filter(id__in=review_ids, status=Review.Status.PENDING).select_related(
            "partner", "reviewer"
        )
    )
    if not pending:
        return ScoringOutcome(0, 0, 0)
    loaded = load_review_context(review_ids=[r.id for r in pending])
    features = review_features(loaded.columns)
    row_of = {rid: i for i, rid in enumerate(loaded.review_ids.tolist())}
    rows = np.array([row_of[r.id] for r in pending], dtype=np.int64)
    risk = review_risk(features.take(rows))

    _fill_missing_languages(pending)
    published = held = 0
    now = timezone.now()
    for review, score, reasons in zip(pending, risk.score.tolist(), risk.reasons, strict=True):
        with transaction.atomic():
            review.risk_score = score
            review.risk_reasons = reason_dicts(reasons)
            review.scored_at = now
            Review.objects.filter(id=review.id, status=Review.Status.PENDING).update(
                risk_score=review.risk_score,
                risk_reasons=review.risk_reasons,
                scored_at=now,
            )
            target = (
                Review.Status.HELD
                if score >= hold_threshold(review.partner)
                else Review.Status.PUBLISHED
            )
            if not review_set_status(
                review=review, status=target, allowed_from=(Review.Status.PENDING,)
            ):
                continue  # another worker got there first
            emit_review_status_changed(review=review, previous=Review.Status.PENDING)
            if target == Review.Status.HELD:
                held += 1
                _open_reviewer_case(review=review)
            else:
                published += 1
    logger.info("scored %d reviews: %d published, %d held", len(pending), published, held)
    return ScoringOutcome(len(pending), published, held)


def _fill_missing_languages(reviews: list[Review]) -> None:
    """Reviews sent without ``language`` get the one guessed from their text ("und" if unsure)."""
    unknown = [r for r in reviews if not r.language]
    for review, language in zip(
        unknown, guess_language([f"{r.title} {r.text}" for r in unknown]), strict=True
    ):
        review.language = language
        Review.objects.filter(id=review.id, language="").update(language=language)


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
