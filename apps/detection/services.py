"""Detection's entry points: accept work, schedule it, score reviews.

The pipeline sits on top of the domain apps: it reads through the one loader
(apps/detection/loader.py), calls ml/, and asks the owning apps to apply what
it decided — ``reviews`` writes verdicts and holds, ``cases`` opens cases,
``reports`` records links. Scheduling (publishing Celery tasks) happens here,
after the domain service has committed.

Scoring is idempotent: only reviews still ``pending`` are scored, locked for
the batch, and their status moves with a guarded UPDATE, so a task delivered
twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert
from apps.core.reasons import merge_reason_records, reason_records
from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reports.models import ThreatReport
from apps.reports.services import report_link_mark_held, threat_report_create
from apps.reviews.models import Review
from apps.reviews.services import (
    ItemResult,
    ScoredReview,
    reviews_apply_scores,
    reviews_ingest,
    reviews_lock_pending,
)
from ml.extortion import cue_strength
from ml.features import review_features
from ml.fusion import RiskResult, review_risk
from ml.text import NearDuplicateDetector, extortion_cues, guess_language

from .linkage import ReportSignal, reports_link_reviews
from .loader import ReviewFrame, read_review_context
from .policy import verdict

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- #
# Accepting work and scheduling it


def reviews_submit(*, partner: Partner, items: list[dict]) -> list[ItemResult]:
    """Store reviews (``reviews_ingest``) and schedule the new ones for scoring.

    The reviews are committed before this returns; their tasks are published
    after the commit, and a publish that fails is left to the sweep.
    """
    results = reviews_ingest(partner=partner, items=items)
    new_ids = [r.review_id for r in results if r.status == 201]
    if new_ids:
        transaction.on_commit(lambda: scoring_enqueue(review_ids=new_ids), robust=True)
    return results


def threat_report_submit(*, partner: Partner, establishment: Establishment, payload: dict,
                         files: Iterable = (), reporter=None) -> ThreatReport:
    """File a threat report (``threat_report_create``) and schedule its linkage."""
    report = threat_report_create(partner=partner, establishment=establishment,
                                  payload=payload, files=files, reporter=reporter)
    report_id = report.id
    transaction.on_commit(lambda: linkage_enqueue(report_ids=[report_id]), robust=True)
    return report


def scoring_enqueue(*, review_ids: list[int]) -> None:
    """Publish scoring tasks in batches; a failure is logged and left to the sweep."""
    from .tasks import score_reviews_task

    size = settings.SCORING_BATCH_SIZE
    for start in range(0, len(review_ids), size):
        chunk = review_ids[start : start + size]
        try:
            score_reviews_task.delay(chunk)
        except Exception:
            # The reviews are committed and pending; the sweep will enqueue them.
            logger.warning("broker unavailable; %d reviews left to the sweep", len(chunk),
                           exc_info=True)
            return


def linkage_enqueue(*, report_ids: list[int]) -> None:
    """Publish the linkage task; if the broker is down the sweep picks the reports up."""
    from .tasks import link_threat_reports_task

    try:
        link_threat_reports_task.delay(report_ids)
    except Exception:
        logger.warning("broker unavailable; reports %s left to the sweep", report_ids,
                       exc_info=True)


# --------------------------------------------------------------------------- #
# Scoring


@dataclass(frozen=True)
class ScoringOutcome:
    scored: int
    published: int
    held: int


def reviews_score(*, review_ids: list[int]) -> ScoringOutcome:
    """Score the still-pending reviews among ``review_ids`` and publish or hold each.

    One transaction per batch: the pending rows are locked (rows another worker
    already holds are skipped, it is scoring them), their context is read in a
    few set-based queries, ml/ scores them together, and every signal —
    behaviour, text, near-duplicates, a linked threat report — feeds the one
    risk that the hold rule (apps/detection/policy.py) turns into a verdict.
    Verdicts, webhooks, links and cases ride the same commit.
    """
    with transaction.atomic():
        pending = reviews_lock_pending(review_ids=review_ids)
        if not pending:
            return ScoringOutcome(0, 0, 0)
        ids = [r.id for r in pending]
        # Owners' live threat reports first: a review by a reported guest is held
        # in the same verdict, not published and then held.
        link = reports_link_reviews(review_ids=ids, deferred=set(ids))
        risk = _risk_of(pending, [link.signals.get(i) for i in ids])
        languages = _languages(pending)
        scored = []
        for review, score, reasons, language in zip(
            pending, risk.score.tolist(), risk.reasons, languages, strict=True
        ):
            signal = link.signals.get(review.id)
            records = reason_records(reasons)
            if signal is not None:
                records = merge_reason_records(records, signal.reasons)
            scored.append(ScoredReview(
                review_id=review.id, risk_score=round(float(score), 4), reasons=records,
                status=verdict(risk=score, partner=review.partner), language=language,
            ))
        changed = reviews_apply_scores(scored=scored, reviews=pending)
        held = [r for r in changed if r.status == Review.Status.HELD]
        for review in held:
            signal = link.signals.get(review.id)
            if signal is not None:
                # The guest's extortion case already lists it: one incident, one case.
                report_link_mark_held(report_id=signal.report_id, review_id=review.id)
            else:
                _open_reviewer_case(review=review)
    logger.info("scored %d reviews: %d held", len(changed), len(held))
    return ScoringOutcome(len(changed), len(changed) - len(held), len(held))


def _risk_of(reviews: list[Review], signals: list[ReportSignal | None]) -> RiskResult:
    """Features from the reviews and their reviewers' and establishments' history -> risk."""
    review_ids = [r.id for r in reviews]
    frame = read_review_context(review_ids=review_ids)
    features = review_features(frame.columns)
    rows = frame.rows_of(review_ids)
    # Demand-and-threat language in the review itself ("refund me or this stays"),
    # EN/FR; a complaint that merely mentions a refund has no cue.
    text = cue_strength(extortion_cues([f"{r.title}\n{r.text}" for r in reviews]))
    copied = _near_duplicate_similarity(frame, rows)
    report = np.array([s.component if s is not None else 0.0 for s in signals])
    return review_risk(
        features.take(rows),
        extra={"extortion_text": text, "near_duplicate_text": copied, "extortion_report": report},
    )


#: Shorter texts ("Great stay!") coincide innocently and are not compared.
MIN_DUPLICATE_TEXT_CHARS = 60
#: Copied texts of a ring land close together in time, so each batch compares
#: its reviews with the most recent part of their context only: MinHash over
#: the whole history of a popular establishment cost ~2 s a review (bench).
DUPLICATE_CONTEXT_ROWS = 500


def _near_duplicate_similarity(frame: ReviewFrame, rows: np.ndarray) -> np.ndarray:
    """For each target row, the highest MinHash similarity of its text to another
    reviewer's review among the targets and the most recent context; 0 when none."""
    columns = frame.columns
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


def _languages(reviews: list[Review]) -> list[str]:
    """The language of reviews sent without one, guessed from their text ("und" if unsure)."""
    unknown = [r for r in reviews if not r.language]
    guessed = dict(zip(
        (r.id for r in unknown), guess_language([f"{r.title} {r.text}" for r in unknown]),
        strict=True,
    ))
    return [guessed.get(r.id, "") for r in reviews]


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
