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
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert_many, case_upsert_outcome
from apps.core.observability import current_request_id, request_ids_as_current
from apps.core.reasons import merge_reason_records, reason_records
from apps.establishments.models import Establishment
from apps.establishments.services import establishment_alerts_raise
from apps.partners.models import Partner
from apps.reports.models import ThreatReport
from apps.reports.services import report_link_mark_held, threat_report_create
from apps.reviews.models import Review
from apps.reviews.selectors import reviewer_anomaly_ranks, reviews_held_among
from apps.reviews.services import (
    ItemResult,
    ScoredReview,
    review_record_scoring_failure,
    reviews_apply_scores,
    reviews_ingest,
    reviews_lock_pending,
)
from ml.extortion import cue_strength
from ml.features import review_features
from ml.fusion import RiskResult, review_risk
from ml.text import NearDuplicateDetector, extortion_cues, guess_language

from .calibration import active_model
from .linkage import LinkOutcome, ReportSignal, reports_link_reviews
from .live import LiveResult, Neighbourhood, detect_live, neighbourhood_of, text_index_add
from .loader import ReviewFrame, Where, read_reviews
from .outbox import scoring_outbox
from .policy import verdict
from .rowcache import recent_rows

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- #
# Accepting work and scheduling it


def reviews_submit(*, partner: Partner, items: list[dict]) -> list[ItemResult]:
    """Store reviews (``reviews_ingest``) and schedule the new ones for scoring.

    The reviews are committed before this returns; their tasks are published
    after the commit, and a publish that fails is left to the sweep.
    """
    results = reviews_ingest(partner=partner, items=items)
    live = [r.review_id for r, item in zip(results, items, strict=True)
            if r.status == 201 and not item.get("historical")]
    past = [r.review_id for r, item in zip(results, items, strict=True)
            if r.status == 201 and item.get("historical")]
    if live:
        transaction.on_commit(lambda: scoring_enqueue_soon(review_ids=live), robust=True)
    if past:
        transaction.on_commit(lambda: scoring_enqueue(review_ids=past, historical=True),
                              robust=True)
    return results


def threat_report_submit(*, partner: Partner, establishment: Establishment, payload: dict,
                         files: Iterable = (), reporter=None) -> ThreatReport:
    """File a threat report (``threat_report_create``) and schedule its linkage."""
    report = threat_report_create(partner=partner, establishment=establishment,
                                  payload=payload, files=files, reporter=reporter)
    report_id = report.id
    transaction.on_commit(lambda: linkage_enqueue(report_ids=[report_id]), robust=True)
    return report


def scoring_enqueue(*, review_ids: list[int], historical: bool = False) -> None:
    """Publish scoring tasks in batches; a failure is logged and left to the sweep.

    Historical reviews (a backfill) go to the batch queue in larger batches, so
    importing a partner's past never delays the verdicts of new reviews.
    """
    from .tasks import score_historical_task, score_reviews_task

    task = score_historical_task if historical else score_reviews_task
    size = settings.HISTORICAL_BATCH_SIZE if historical else settings.SCORING_BATCH_SIZE
    for start in range(0, len(review_ids), size):
        chunk = review_ids[start : start + size]
        try:
            task.delay(chunk)
        except Exception:
            # The reviews are committed and pending; the sweep will enqueue them.
            logger.warning("broker unavailable; %d reviews left to the sweep", len(chunk),
                           exc_info=True)
            return


def scoring_enqueue_soon(*, review_ids: list[int]) -> None:
    """Live reviews from a request: published with those of the next few
    milliseconds in one task (``SCORING_PUBLISH_WINDOW_MS``; 0 publishes now).

    Saves most of a task publish per single review POST; a review whose
    publish is lost with its process is swept like one the broker lost.
    """
    from reviewguard.celery import app

    window_ms = settings.SCORING_PUBLISH_WINDOW_MS
    if window_ms <= 0 or app.conf.task_always_eager:
        # Eager tasks (in-process benchmarks) run where they are published: now.
        scoring_enqueue(review_ids=review_ids)
        return
    outbox = scoring_outbox(_publish_gathered, window_s=window_ms / 1000,
                            max_ids=settings.SCORING_BATCH_SIZE)
    outbox.add(review_ids, current_request_id())


def _publish_gathered(review_ids: list[int], request_ids: list[str]) -> None:
    with request_ids_as_current(request_ids):
        scoring_enqueue(review_ids=review_ids)


def scoring_queue_depth() -> int | None:
    """Messages waiting in the scoring queue, or None when the broker cannot say."""
    from amqp.exceptions import ChannelError, NotFound

    from reviewguard.celery import app

    try:
        with app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(
                queue=settings.CELERY_QUEUES_BY_WORKLOAD["scoring"], passive=True
            ).message_count
    except (NotFound, ChannelError) as exc:
        # Never declared yet (AMQP NotFound; kombu's Redis transport says 404):
        # nothing waits in it. Any other channel error means "unknown".
        if isinstance(exc, NotFound) or "NOT_FOUND" in str(exc):
            return 0
        logger.debug("scoring queue depth unavailable", exc_info=True)
        return None
    except Exception:
        logger.debug("scoring queue depth unavailable", exc_info=True)
        return None


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


def reviews_score(*, review_ids: list[int], historical: bool = False,
                  fill: bool = False) -> ScoringOutcome:
    """Score the still-pending reviews among ``review_ids`` and publish or hold each.

    One transaction per batch: the pending rows are locked (rows another worker
    already holds are skipped, it is scoring them), their neighbourhood is read
    in a few set-based queries bounded by time windows (apps/detection/live.py),
    ml/ scores them together, and every signal — behaviour, text,
    near-duplicates, a linked threat report, a ring or a bombing burst the
    review joins — feeds the one risk that the hold rule
    (apps/detection/policy.py) turns into a verdict. Verdicts, webhooks, links,
    cases and alerts ride the same commit.

    ``historical`` (a backfill of past reviews): no live ring or burst detection
    (reconciliation reads the imported period) and no webhook per review.

    ``fill``: the batch takes other waiting reviews up to ``SCORING_FILL_SIZE``
    (``HISTORICAL_BATCH_SIZE`` for a backfill; ``reviews_lock_pending``), so
    under a backlog every batch is full, and larger than one message's.
    """
    size = settings.HISTORICAL_BATCH_SIZE if historical else settings.SCORING_FILL_SIZE
    with transaction.atomic():
        pending = reviews_lock_pending(review_ids=review_ids, fill_to=size if fill else 0,
                                       historical=historical,
                                       waited=settings.SCORING_FILL_AFTER_SECONDS)
        if not pending:
            return ScoringOutcome(0, 0, 0)
        ids = [r.id for r in pending]
        # Owners' live threat reports first: a review by a reported guest is held
        # in the same verdict, not published and then held.
        link = _isolated("report linkage", LinkOutcome, reports_link_reviews,
                         review_ids=ids, deferred=set(ids))
        near = neighbourhood_of(reviews=pending)
        # A backfill's neighbourhoods are history seen once: kept rows are for live batches.
        frame = (read_reviews(where=Where(ids=near.review_ids)) if historical
                 else recent_rows().frame(near.review_ids))
        live = LiveResult() if historical else _isolated(
            "live detection", LiveResult, detect_live, frame=frame, near=near, target_ids=ids)
        # Demand-and-threat language in the review itself ("refund me or this stays"),
        # EN/FR; a complaint that merely mentions a refund has no cue.
        threat = cue_strength(extortion_cues([f"{r.title}\n{r.text}" for r in pending]))
        risk = _risk_of(pending, frame, near, [link.signals.get(i) for i in ids], live, threat)
        languages = _languages(pending)
        finding_reasons = _finding_reasons(live)
        model = active_model()
        scored = []
        for review, score, reasons, language in zip(
            pending, risk.score.tolist(), risk.reasons, languages, strict=True
        ):
            signal = link.signals.get(review.id)
            records = merge_reason_records(
                reason_records(reasons),
                signal.reasons if signal is not None else [],
                finding_reasons.get(review.id, []),
                live.notes.get(review.id, []),
            )
            scored.append(ScoredReview(
                review_id=review.id, risk_score=round(float(score), 4), reasons=records,
                status=verdict(risk=score, partner=review.partner), language=language,
                model_version=model.version if model else "",
            ))
        changed = reviews_apply_scores(scored=scored, reviews=pending, notify=not historical)
        text_index_add(bands=near.bands)
        in_incident = _open_live_cases(live)
        held = [r for r in changed if r.status == Review.Status.HELD]
        threatening = {r.id for r, cue in zip(pending, threat.tolist(), strict=True)
                       if cue >= THREAT_CASE_MIN_CUE}
        needs_case = []
        for review in held:
            signal = link.signals.get(review.id)
            if signal is not None:
                # The guest's extortion case already lists it: one incident, one case.
                report_link_mark_held(report_id=signal.report_id, review_id=review.id)
            elif review.id not in in_incident:
                needs_case.append(_held_review_finding(review, threatening=review.id in
                                                       threatening))
        case_upsert_many(findings=needs_case)
    logger.info("scored %d reviews: %d held", len(changed), len(held))
    return ScoringOutcome(len(changed), len(changed) - len(held), len(held))


#: Errors worth retrying the whole task for: the database is away or restarting.
TRANSIENT = (OperationalError, InterfaceError)


def _isolated(what: str, empty, step, **kwargs):
    """Run one detection step in a savepoint. If it fails for any reason but the
    database being away, its writes are undone, the failure is logged, and the
    batch is scored without it: one bad report or one detector bug must not hold
    every partner's reviews hostage."""
    try:
        with transaction.atomic():
            return step(**kwargs)
    except TRANSIENT:
        raise
    except Exception:
        logger.exception("%s failed; the batch is scored without it", what)
        return empty()


def reviews_score_isolating(*, review_ids: list[int], historical: bool = False) -> ScoringOutcome:
    """``reviews_score``, with a failing batch split in halves until the review that
    fails is alone; that one's failure is counted and, after
    ``SCORING_MAX_ATTEMPTS``, it is dead-lettered, while every other review is
    scored. Database outages are not split: they propagate, for a retry.

    The first try fills the batch with other waiting reviews (``fill``); the
    halves of a failed batch hold only the task's own reviews."""
    return _score_isolating(review_ids, historical, fill=True)


def _score_isolating(review_ids: list[int], historical: bool, *,
                     fill: bool = False) -> ScoringOutcome:
    try:
        return reviews_score(review_ids=review_ids, historical=historical, fill=fill)
    except TRANSIENT:
        raise
    except Exception as exc:
        if len(review_ids) > 1:
            half = len(review_ids) // 2
            a = _score_isolating(review_ids[:half], historical)
            b = _score_isolating(review_ids[half:], historical)
            return ScoringOutcome(a.scored + b.scored, a.published + b.published, a.held + b.held)
        if fill:
            # The failure may be a review the batch took besides its own: its own
            # message isolates it. Score this one alone before counting a failure.
            return _score_isolating(review_ids, historical)
        logger.exception("scoring review %s failed", review_ids[0])
        if review_record_scoring_failure(review_id=review_ids[0], error=f"{type(exc).__name__}: "
                                         f"{exc}", max_attempts=settings.SCORING_MAX_ATTEMPTS):
            logger.error("review %s dead-lettered after %d attempts", review_ids[0],
                         settings.SCORING_MAX_ATTEMPTS)
        return ScoringOutcome(0, 0, 0)


def _finding_reasons(live: LiveResult, top: int = 3) -> dict[int, list[dict]]:
    """What a ring or burst a review joins says about it: its strongest reasons."""
    out: dict[int, list[dict]] = {}
    for item in live.findings:
        for review_id in item.target_review_ids:
            out[review_id] = merge_reason_records(out.get(review_id, []),
                                                  item.finding.reasons[:top])
    return out


def _open_live_cases(live: LiveResult) -> set[int]:
    """Open or grow the case of every live finding, and raise its establishments'
    alerts; returns the ids of the batch's reviews that belong to one."""
    in_incident: set[int] = set()
    now = timezone.now()
    for item in live.findings:
        result = case_upsert_outcome(finding=item.finding)
        in_incident |= set(item.target_review_ids)
        counts = {
            "reviews": len(item.finding.review_ids),
            "reviewers": len(item.finding.reviewer_ids),
            "held": reviews_held_among(ids=item.finding.review_ids),
        }
        establishment_alerts_raise(
            establishment_ids=item.alert_establishments, kind=item.alert_kind, seen_at=now,
            counts=counts, reasons=item.finding.reasons[:4], case_id=result.case.pk,
        )
    return in_incident


def _risk_of(reviews: list[Review], frame: ReviewFrame, near: Neighbourhood,
             signals: list[ReportSignal | None], live: LiveResult,
             text: np.ndarray) -> RiskResult:
    """Features from the reviews' neighbourhood, and every component -> one risk each."""
    review_ids = [r.id for r in reviews]
    features = review_features(frame.columns)
    rows = frame.rows_of(review_ids)
    candidates = frame.rows_of(sorted(near.text_candidates))
    copied = _near_duplicate_similarity(frame, rows, candidates)
    report = np.array([s.component if s is not None else 0.0 for s in signals])
    extra = {"extortion_text": text, "near_duplicate_text": copied, "extortion_report": report}
    for component in ("ring_member", "review_bombing"):
        extra[component] = np.array(
            [live.components.get(i, {}).get(component, 0.0) for i in review_ids])
    # The last reconciliation's anomaly ranking: corroboration only (weight 1.5).
    ranks = reviewer_anomaly_ranks(ids={r.reviewer_id for r in reviews})
    rank = np.array([ranks.get(r.reviewer_id, np.nan) for r in reviews], dtype=np.float64)
    extra["anomaly_rank"] = np.nan_to_num(np.clip((rank - 0.95) / 0.049, 0.0, 1.0))
    model = active_model()
    return review_risk(features.take(rows), extra=extra,
                       weights=model.weights if model else None,
                       bias=model.bias if model else None)


#: Shorter texts ("Great stay!") coincide innocently and are not compared.
MIN_DUPLICATE_TEXT_CHARS = 60
#: Besides the candidates the band index found anywhere, each batch compares its
#: reviews with the most recent part of their neighbourhood: MinHash over the
#: whole history of a popular establishment cost ~2 s a review (bench).
DUPLICATE_CONTEXT_ROWS = 500


#: A guest has an account on each platform and may post the same review on
#: several: a copy found on another platform (under another e-mail and device)
#: counts at this share of its similarity; one under the same e-mail or device
#: there is the guest's own review and does not count.
CROSS_PLATFORM_COPY_SHARE = 0.5


def _near_duplicate_similarity(frame: ReviewFrame, rows: np.ndarray,
                               candidates: np.ndarray) -> np.ndarray:
    """For each target row, the highest MinHash similarity of its text to another
    guest's review among the targets, the band-index candidates and the most
    recent neighbourhood (``CROSS_PLATFORM_COPY_SHARE`` of it on another
    platform); 0 when none."""
    columns = frame.columns
    when = np.nan_to_num(columns.created_at, nan=-np.inf)
    recent = np.argsort(-when, kind="stable")[:DUPLICATE_CONTEXT_ROWS]
    compare = np.union1d(np.union1d(recent, rows), candidates)
    texts = [
        columns.text[k] if len(columns.text[k]) >= MIN_DUPLICATE_TEXT_CHARS else ""
        for k in compare.tolist()
    ]
    targets = np.searchsorted(compare, rows)
    i, j, similarity = NearDuplicateDetector(threshold=0.6).fit(texts, anchors=targets).pairs_
    a, b = compare[i], compare[j]
    same_platform = frame.partner_ids[a] == frame.partner_ids[b]
    same_guest = ~same_platform & (_same_known(columns.email, a, b)
                                   | _same_known(columns.device, a, b))
    other = (columns.reviewer[a] != columns.reviewer[b]) & ~same_guest
    strength = np.where(same_platform, similarity, CROSS_PLATFORM_COPY_SHARE * similarity)
    best = np.zeros(len(compare), dtype=np.float64)
    np.maximum.at(best, i[other], strength[other])
    np.maximum.at(best, j[other], strength[other])
    return best[targets]


def _same_known(codes: np.ndarray | None, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair, whether rows ``a`` and ``b`` carry the same known identifier."""
    if codes is None:
        return np.zeros(len(a), dtype=bool)
    return (codes[a] == codes[b]) & (codes[a] >= 0)


def _languages(reviews: list[Review]) -> list[str]:
    """The language of reviews sent without one, guessed from their text ("und" if unsure)."""
    unknown = [r for r in reviews if not r.language]
    guessed = dict(zip(
        (r.id for r in unknown), guess_language([f"{r.title} {r.text}" for r in unknown]),
        strict=True,
    ))
    return [guessed.get(r.id, "") for r in reviews]


#: A held review whose own text makes an explicit demand with a threat (cue
#: strength >= this) is blackmail with or without a report: an extortion case.
THREAT_CASE_MIN_CUE = 0.8


def _held_review_finding(review: Review, *, threatening: bool) -> CaseFinding:
    """What a held review outside any incident puts before a moderator: blackmail in
    the review itself (one extortion case per threatening guest), or else its
    reviewer's case."""
    if threatening:
        kind, key = Case.Kind.EXTORTION, f"threatening_reviewer:{review.reviewer_id}"
        summary = f"Review {review.external_id} demands something under threat"
    else:
        kind, key = Case.Kind.ANOMALOUS_REVIEWER, f"reviewer:{review.reviewer_id}"
        summary = f"Held review {review.external_id} by {review.reviewer}"
    return CaseFinding(
        kind=kind, member_keys=(key,), severity=float(review.risk_score or 0.0),
        reasons=review.risk_reasons, summary=summary, review_ids=(review.id,),
        reviewer_ids=(review.reviewer_id,), establishment_ids=(review.establishment_id,),
        partner_ids=(review.partner_id,),
    )


# --------------------------------------------------------------------------- #
# Alerts


def alerts_reconcile() -> int:
    """End the alerts of attacks quiet for ``ALERT_QUIET_HOURS`` or whose case a
    moderator decided (each end is announced by webhook). Returns how many ended."""
    from apps.cases.selectors import cases_no_longer_open
    from apps.establishments.selectors import active_alert_case_ids
    from apps.establishments.services import establishment_alerts_end

    quiet_since = timezone.now() - timedelta(hours=settings.ALERT_QUIET_HOURS)
    closed = cases_no_longer_open(ids=active_alert_case_ids())
    return establishment_alerts_end(quiet_since=quiet_since, case_ids_closed=closed)
