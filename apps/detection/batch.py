"""Batch detection: the review table -> ml/ ring, burst and anomaly detectors -> cases.

Reading goes through the one loader (apps/detection/loader.py), which streams
plain values in chunks into numpy columns. Every finding becomes a
case through ``case_upsert``, keyed on its members, so a re-run extends the
cases it opened instead of opening twins. Each run is recorded as a
DetectionRun with its parameters, counts, timings and model versions.
"""

from __future__ import annotations

import hashlib
import logging
import resource
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from django.utils import timezone

from apps.cases.models import Case
from apps.cases.services import INCIDENT_KINDS, CaseFinding, case_upsert_outcome
from apps.core.db import advisory_lock
from apps.core.reasons import reason_records
from apps.establishments.selectors import establishment_names
from apps.reviews.models import Review
from apps.reviews.selectors import reviewer_handles
from apps.reviews.services import reviewers_set_anomaly_ranks
from ml.anomaly import AnomalyEnsemble
from ml.bursts import BurstDetector
from ml.features import FeatureMatrix, ReviewColumns, review_features, reviewer_features
from ml.rings import RingDetector

from .live import bursts_knowing_newcomers, incident_apply
from .loader import LazyTexts, NoProgress, Progress, ReviewFrame, Where, read_reviews
from .models import DetectionRun

logger = logging.getLogger(__name__)


# --- Parameters and progress -------------------------------------------------------


@dataclass(frozen=True)
class BatchParameters:
    since: datetime | None = None  # only findings touching reviews written since then
    lookback_days: float = 93.0  # history read before ``since`` (burst baseline + window)
    chunk_size: int = 20_000  # rows per fetch from the server-side cursor
    ring_text: bool = True  # near-duplicate text as ring evidence (the costliest part)
    anomaly_threshold: float = 0.995  # reviewer anomaly rank that opens a case
    anomaly_max_cases: int = 50  # at most this many anomalous-reviewer cases per run
    anomaly_min_reviews: int = 2  # one-review accounts are left to the per-review path
    detectors: tuple[str, ...] = ("rings", "bursts", "anomaly")
    random_state: int = 0

    def as_json(self) -> dict:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["detectors"] = list(self.detectors)
        return data


# --- Findings -----------------------------------------------------------------------


# Directions of the behavioural features for the anomaly ensemble: +1 high is
# suspicious, -1 low is, 0 both tails. Unknown (new) features get 0.
_DIRECTIONS = {
    "rating_deviation": 0,
    "rating_extremity": 1,
    "account_age_days": -1,
    "reviewer_review_count": 0,
    "reviewer_establishment_count": 0,
    "reviewer_max_reviews_per_day": 1,
    "first_review_of_account": 1,
    "establishment_review_count": 0,
    "verified_stay": -1,
    "email_shared_reviewers": 1,
    "device_shared_reviewers": 1,
    "ip_shared_reviewers": 1,
    "ip24_shared_reviewers": 1,
}
def _direction(name: str) -> int:
    if name == "review_count":
        return 0
    base = name.rsplit("_", 1)[0] if name.endswith(("_mean", "_max")) else name
    return _DIRECTIONS.get(base, 0)


def _feature_reason(name: str, z: float) -> dict:
    base, _, stat = name.rpartition("_")
    if stat not in ("mean", "max"):
        base, stat = name, ""
    return {"code": f"anomaly_{name}", "score": round(min(1.0, z / 10.0), 4),
            "values": {"feature": base, "stat": stat, "z": round(float(z), 2)}}


def _anomaly_rank_reason(score: float) -> dict:
    return {"code": "anomaly_rank", "score": round(score, 4),
            "values": {"value": round(score, 4)}}


def _unique(values: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.unique(values[values >= 0]))


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d")


@dataclass
class _Findings:
    findings: list[CaseFinding] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    info: dict = field(default_factory=dict)


def _recent(rows: np.ndarray, created: np.ndarray, since_epoch: float | None) -> bool:
    return since_epoch is None or bool((created[rows] >= since_epoch).any())


def ring_findings(data: ReviewFrame, detector: RingDetector, since_epoch: float | None) -> _Findings:
    out = _Findings()
    cols = data.columns
    for ring in detector.rings_:
        rows = np.asarray(ring.reviews, dtype=np.int64)
        out.counts["rings"] += 1
        if not _recent(rows, cols.created_at, since_epoch):
            continue
        members = tuple(int(m) for m in ring.members)
        establishments = tuple(int(e) for e in ring.establishments)
        out.findings.append(CaseFinding(
            kind=Case.Kind.SOCK_PUPPET_RING,
            member_keys=tuple(f"reviewer:{m}" for m in members),
            severity=float(ring.score),
            reasons=reason_records(ring.reasons),
            summary=(f"Ring of {len(members)} reviewers: {len(rows)} reviews, "
                     f"{len(establishments)} establishments targeted"),
            review_ids=tuple(int(i) for i in data.review_ids[rows]),
            reviewer_ids=members,
            establishment_ids=establishments or _unique(cols.establishment[rows]),
            partner_ids=_unique(data.partner_ids[rows]),
        ))
    return out


def burst_findings(data: ReviewFrame, detector: BurstDetector, since_epoch: float | None) -> _Findings:
    """A bombing (negative reviews) is a review_bombing case of its reviews; a
    promotion (praise from coordinated accounts, one place) is a sock-puppet ring
    of one target, keyed on its members like the rings of ml/rings.py. A
    suspected burst opens its case too, with ``holds`` off; organic ones are
    counted and listed, never a case."""
    positive = detector.polarity == "positive"
    prefix = "praise_bursts" if positive else "bursts"
    out = _Findings(info={f"organic_{prefix}": []})
    cols = data.columns
    names = establishment_names(ids={b.establishment for b in detector.bursts_})
    for burst in detector.bursts_:
        rows = np.asarray(burst.reviews, dtype=np.int64)
        out.counts[f"{prefix}_{burst.label}"] += 1
        if not _recent(rows, cols.created_at, since_epoch):
            continue
        window = f"{_day(burst.start)} to {_day(burst.end)}"
        if burst.label == "organic":
            # Organic outrage (or enthusiasm) is information, never a fraud case.
            if len(out.info[f"organic_{prefix}"]) < 100:
                out.info[f"organic_{prefix}"].append({
                    "establishment": burst.establishment, "start": _day(burst.start),
                    "end": _day(burst.end), "reviews": len(rows),
                    "coordination": round(burst.coordination, 3),
                })
            continue
        # The incident is the reviews that carry the marks themselves: an honest
        # review that fell in the attack's window is not part of it (confirming
        # the case must never remove it).
        rows = burst.incident
        if len(rows) == 0:
            continue
        place = names.get(burst.establishment, burst.establishment)
        suspected = burst.label == "suspected"
        reviewers = _unique(cols.reviewer[rows])
        summary = (f"{len(rows)} {'positive reviews of' if positive else 'negative reviews against'}"
                   f" {place}, {window}"
                   + (f", by {len(reviewers)} coordinated accounts" if positive and not suspected
                      else "")
                   + (": newcomers on shared networks, nothing else coordinated; left published"
                      if suspected else ""))
        review_ids = tuple(int(i) for i in data.review_ids[rows])
        out.findings.append(CaseFinding(
            kind=Case.Kind.SOCK_PUPPET_RING if positive else Case.Kind.REVIEW_BOMBING,
            member_keys=(tuple(f"reviewer:{m}" for m in reviewers) if positive
                         else tuple(f"review:{i}" for i in review_ids)),
            severity=float(burst.coordination),
            reasons=reason_records(burst.reasons),
            summary=summary,
            review_ids=review_ids,
            reviewer_ids=reviewers,
            establishment_ids=(int(burst.establishment),),
            partner_ids=_unique(data.partner_ids[rows]),
            holds=not suspected,
        ))
    return out


@dataclass(frozen=True)
class AnomalyResult:
    reviewers: np.ndarray  # reviewer codes
    scores: np.ndarray  # rank in [0, 1]
    reasons: list[list[tuple[str, float]]]  # per flagged reviewer
    flagged: np.ndarray  # indices into reviewers, strongest first


#: Reviewers ranked at least this high keep their rank for live scoring
#: (``anomaly_rank`` component, from 0 at 0.95 to 1 at 0.999).
ANOMALY_RANK_KEPT = 0.95


def detect_anomalies(cols: ReviewColumns, params: BatchParameters) -> AnomalyResult:
    """Rank reviewers with the PyOD ensemble on their aggregated behaviour."""
    features = review_features(cols)
    codes, matrix = reviewer_features(cols.reviewer, features)
    count = matrix.column("review_count")
    # A feature nobody has (no e-mails sent by any partner, say) tells nothing.
    informative = ~np.isnan(matrix.values).all(axis=0)
    matrix = FeatureMatrix(
        tuple(n for n, keep in zip(matrix.names, informative, strict=True) if keep),
        matrix.values[:, informative],
    )
    model = AnomalyEnsemble(
        directions=[_direction(n) for n in matrix.names], random_state=params.random_state
    ).fit(matrix.values)
    scores = model.decision_scores_
    eligible = (codes >= 0) & (count >= params.anomaly_min_reviews)
    candidates = np.flatnonzero(eligible & (scores >= params.anomaly_threshold))
    flagged = candidates[np.argsort(-scores[candidates], kind="stable")][: params.anomaly_max_cases]
    reasons = (
        model.reasons(matrix.values[flagged], feature_names=matrix.names, top_k=3)
        if len(flagged) else []
    )
    return AnomalyResult(codes, scores, reasons, flagged)


def anomaly_findings(data: ReviewFrame, result: AnomalyResult,
                     since_epoch: float | None) -> _Findings:
    out = _Findings()
    cols = data.columns
    reviewer = np.asarray(cols.reviewer, dtype=np.int64)
    out.counts["reviewers_ranked"] = int((result.reviewers >= 0).sum())
    if not len(result.flagged):
        return out
    flagged_codes = result.reviewers[result.flagged]
    order = np.argsort(reviewer, kind="stable")
    start = np.searchsorted(reviewer[order], flagged_codes, side="left")
    stop = np.searchsorted(reviewer[order], flagged_codes, side="right")
    handles = reviewer_handles(ids=flagged_codes.tolist())
    for k, index in enumerate(result.flagged.tolist()):
        rows = np.sort(order[start[k] : stop[k]])
        out.counts["anomalous_reviewers"] += 1
        if not _recent(rows, cols.created_at, since_epoch):
            continue
        code, score = int(result.reviewers[index]), float(result.scores[index])
        out.findings.append(CaseFinding(
            kind=Case.Kind.ANOMALOUS_REVIEWER,
            member_keys=(f"reviewer:{code}",),  # the same key as the per-review path
            # It ranks, it does not accuse: below rings and bombings in the queue.
            severity=round(0.6 * score, 4),
            reasons=[_anomaly_rank_reason(score)]
            + [_feature_reason(name, z) for name, z in result.reasons[k]],
            summary=(f"Reviewer {handles.get(code) or code}: unusual behaviour over "
                     f"{len(rows)} reviews (rank {score:.3f})"),
            review_ids=tuple(int(i) for i in data.review_ids[rows]),
            reviewer_ids=(code,),
            establishment_ids=_unique(cols.establishment[rows]),
            partner_ids=_unique(data.partner_ids[rows]),
        ))
    return out


# --- The run ------------------------------------------------------------------------


def _module_version(name: str) -> str:
    """A detector's version: its class name and a hash of its module's source."""
    import ml

    source = Path(ml.__file__).with_name(f"{name}.py")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12] if source.exists() else "?"
    return digest


def _peak_memory_mb() -> float:
    # ru_maxrss is in kilobytes on Linux: the process's peak resident set.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


#: The advisory lock a reconciliation holds while it runs (PostgreSQL).
RECONCILIATION_LOCK = "detection:reconciliation"
#: Without advisory locks (SQLite), a run still "running" after this long is
#: taken for one that died.
RUNNING_AT_MOST = timedelta(hours=3)


@contextmanager
def reconciliation_slot() -> Iterator[bool]:
    """Whether this process may reconcile now; the answer holds for the block.

    One reconciliation at a time (beat and ``manage.py detect`` may overlap).
    On PostgreSQL the running one holds an advisory lock for its whole run, so
    a run whose worker was killed outright (no ``finally`` ran) releases it
    with its connection: its DetectionRun, left "running", is then marked
    failed here and the next run goes ahead, instead of every run skipping
    for hours. Elsewhere: free unless a run started within RUNNING_AT_MOST is
    still running.
    """
    with advisory_lock(RECONCILIATION_LOCK) as held:
        if held is None:
            recent = timezone.now() - RUNNING_AT_MOST
            yield not DetectionRun.objects.filter(status=DetectionRun.Status.RUNNING,
                                                  started_at__gte=recent).exists()
            return
        if held:
            DetectionRun.objects.filter(status=DetectionRun.Status.RUNNING).update(
                status=DetectionRun.Status.FAILED, finished_at=timezone.now(),
                error="interrupted: its process stopped before the run finished")
        yield held


def run_batch_detection(*, params: BatchParameters | None = None,
                        progress: Progress | None = None) -> DetectionRun:
    """Read, detect, upsert cases; returns the finished DetectionRun (failed runs re-raise)."""
    params = params or BatchParameters()
    progress = progress or NoProgress()
    run = DetectionRun.objects.create(
        parameters=params.as_json(),
        model_versions={
            "rings": f"RingDetector@{_module_version('rings')}",
            "bursts": f"BurstDetector@{_module_version('bursts')}",
            "anomaly": f"AnomalyEnsemble@{_module_version('anomaly')}",
            "features": f"features@{_module_version('features')}",
        },
    )
    started = time.monotonic()
    metrics: dict = {}
    try:
        read_from = (params.since - timedelta(days=params.lookback_days)
                     if params.since else None)
        since_epoch = params.since.timestamp() if params.since else None
        t0 = time.monotonic()
        data = read_reviews(
            where=Where(since=read_from), chunk_size=params.chunk_size,
            with_text=params.ring_text, progress=progress,
            count=_count_since(read_from),
        )
        metrics["seconds_reading"] = round(time.monotonic() - t0, 3)
        cols = data.columns
        counts: Counter = Counter(
            reviews=len(data),
            reviewers=len(np.unique(cols.reviewer)),
            establishments=len(np.unique(cols.establishment)),
        )
        results: list[_Findings] = []
        detecting = 0.0
        progress.stage("detecting", total=len(params.detectors))
        for name in params.detectors:
            progress.describe(name)
            t0 = time.monotonic()
            if name == "rings":
                ring_cols = cols if params.ring_text else _without_text(cols)
                detector = RingDetector(random_state=params.random_state).fit(ring_cols)
                found = ring_findings(data, detector, since_epoch)
            elif name == "bursts":
                found = _Findings()
                for polarity in ("negative", "positive"):
                    detector = BurstDetector(polarity=polarity, random_state=params.random_state)
                    if isinstance(cols.text, LazyTexts):
                        detector = _fit_bursts_lazily(detector, cols, cols.text)
                    else:
                        detector.fit(cols)
                    detector = bursts_knowing_newcomers(detector, cols)
                    part = burst_findings(data, detector, since_epoch)
                    found.findings += part.findings
                    found.counts.update(part.counts)
                    found.info.update(part.info)
            elif name == "anomaly":
                ranked = detect_anomalies(cols, params)
                found = anomaly_findings(data, ranked, since_epoch)
                top = (ranked.reviewers >= 0) & (ranked.scores >= ANOMALY_RANK_KEPT)
                reviewers_set_anomaly_ranks(ranks=dict(zip(
                    ranked.reviewers[top].tolist(), ranked.scores[top].tolist(), strict=True)))
            else:
                raise ValueError(f"unknown detector {name!r}")
            seconds = time.monotonic() - t0
            metrics[f"seconds_{name}"] = round(seconds, 3)
            detecting += seconds
            progress.advance()
            results.append(found)
        metrics["seconds_detecting"] = round(detecting, 3)

        t0 = time.monotonic()
        findings = [f for r in results for f in r.findings]
        progress.stage("writing cases", total=len(findings))
        outcomes: Counter = Counter()
        for finding in findings:
            result = case_upsert_outcome(finding=finding)
            outcomes[f"{finding.kind}:{result.outcome}"] += 1
            if (finding.kind in INCIDENT_KINDS and finding.holds
                    and result.case.status == Case.Status.OPEN):
                counts["reviews_held"] += incident_apply(finding=finding, case_id=result.case.pk)
            progress.advance()
        metrics["seconds_writing"] = round(time.monotonic() - t0, 3)
        for r in results:
            counts.update(r.counts)
            metrics.update(r.info)
        counts["findings"] = len(findings)
        metrics["cases"] = dict(sorted(outcomes.items()))
        metrics["seconds_total"] = round(time.monotonic() - started, 3)
        metrics["peak_memory_mb"] = _peak_memory_mb()
        run.status = DetectionRun.Status.SUCCEEDED
        run.counts = dict(counts)
    except BaseException as exc:  # a stopping worker (SystemExit) too: never left "running"
        metrics["seconds_total"] = round(time.monotonic() - started, 3)
        run.status = DetectionRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:5000]
        raise
    finally:
        run.metrics = metrics
        run.finished_at = timezone.now()
        run.save()
        progress.close()
    logger.info("batch detection run %s: %s in %.1f s", run.pk, dict(run.counts),
                metrics["seconds_total"])
    return run


def _count_since(since: datetime | None) -> int:
    queryset = Review.objects.all()
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    return queryset.count()


def read_batch_columns(*, since: datetime | None = None, with_text: bool = True) -> ReviewFrame:
    """Every review written since ``since`` (all when None), as a frame."""
    return read_reviews(where=Where(since=since), with_text=with_text)


def _without_text(cols: ReviewColumns) -> ReviewColumns:
    return ReviewColumns(**{**{f: getattr(cols, f) for f in cols.__dataclass_fields__},
                            "text": None})


def _fit_bursts_lazily(detector: BurstDetector, cols: ReviewColumns,
                       texts: LazyTexts) -> BurstDetector:
    """Find bursts without texts, then fetch only the bursts' texts and describe again."""
    detector.fit(_without_text(cols))
    rows = sorted({int(i) for b in detector.bursts_ for i in b.reviews})
    if not rows:
        return detector
    texts.prefetch(rows)
    return detector.fit(cols)
