"""Live detection: the neighbourhood of a scoring batch -> rings and bombing, in seconds.

A scoring batch does not look at the whole table. It reads the neighbourhood
of its reviews, a set bounded by time windows and caps rather than by history:

- the histories of the batch's reviewers;
- the touched establishments' most recent reviews (at most ``ESTABLISHMENT_ROWS``
  each within the burst baseline's period), and the times of the rest of their
  negative reviews in that period, which the burst detector counts in its
  baseline without reading them (so a busy establishment costs a bounded number
  of rows, however many reviews it had);
- reviewers tied to the new ones by identifier hashes (e-mail, device, IP)
  within the window (an IP /24 only corroborates what is read);
- reviews whose text shares an LSH band with a new text, from the persistent
  band index (``TextBand``), however far away they were posted;
- co-reviewers of the touched establishments in the last days, those on the
  most of them first, and the recent reviews of all these neighbours (so
  lockstep co-reviewing shows).

ml/'s ring and burst detectors run on that neighbourhood. A ring that a new
reviewer belongs to, a bombing burst a new review lands in, or a promotion (a
coordinated burst of praise: a ring of one target) becomes a fusion component
of the review's one risk (``ring_member``, ``review_bombing``), so the review
is held before publication by the one hold rule, and the finding opens or
grows its case and the establishment's alert. Organic outrage (or
enthusiasm) is never a component: it is only described. A suspected burst
(newcomers to the platform on shared networks or devices, nothing else
coordinated) opens its case for a moderator, but is no component and raises no
alert: its reviews stay published.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from apps.cases.services import CaseFinding
from apps.core.db import bigint_array, float_array
from apps.core.reasons import reason_records
from apps.establishments.services import establishment_alerts_raise
from apps.reviews.models import Review, Reviewer
from apps.reviews.selectors import (
    review_verdict_state,
    reviewers_first_review_at,
    reviews_held_among,
)
from ml.arrays import row_groups, unique_counts
from ml.bursts import BurstDetector
from ml.features import ReviewColumns
from ml.rings import RingDetector
from ml.text import lsh_band_keys, minhash_signatures

from .loader import ReviewFrame, review_times
from .models import TextBand
from .policy import component_record, hold_on_new_evidence

logger = logging.getLogger(__name__)

#: Burst baseline (90 days) plus its window (3): how far back establishments are read.
ESTABLISHMENT_DAYS = 93.0
#: Reviews of each touched establishment read in full, the most recent first. The
#: rest of its period is only counted (burst baseline); these rows give its usual
#: rating, the venue's shared identifiers and the context of a burst.
ESTABLISHMENT_ROWS = 50
#: How far back identifier-tied and text-similar neighbours are looked for.
NEIGHBOUR_DAYS = 60.0
#: Co-reviewers of a touched establishment within this many days of a new review
#: bring their own recent reviews (lockstep needs them).
LOCKSTEP_DAYS = 7.0
#: Caps that keep one batch's neighbourhood bounded whatever the table holds.
MAX_TIED_REVIEWERS = 2_000
MAX_CO_REVIEWERS = 1_000
#: Co-reviewers are looked for among this many of each touched establishment's most
#: recent reviews of the lockstep window (a flooded place cost a scan of all of them:
#: 0.2-0.7 s a batch at a million reviews, bench/RESULTS.md, issue 14).
CO_REVIEW_ROWS = 200
MAX_TEXT_CANDIDATES = 2_000
MAX_NEIGHBOUR_REVIEWS = 20_000
#: Texts shorter than this coincide innocently ("Great stay!") and are not indexed.
MIN_TEXT_CHARS = 60
#: MinHash geometry of the band index: 16 bands of 4 rows catch ~90% of pairs at
#: Jaccard 0.6 and nearly all above 0.7.
TEXT_PERMUTATIONS = 64
TEXT_BANDS = 16
#: A ring must be at least this strong before its new reviews are held.
MIN_RING_SCORE = 0.5


# --------------------------------------------------------------------------- #
# The neighbourhood


def _in_window(reviews: Sequence[Review], days: float) -> tuple:
    created = [r.created_at for r in reviews]
    return min(created) - timedelta(days=days), max(created) + timedelta(days=1)


@dataclass(frozen=True)
class BandKeys:
    """The LSH band keys of a batch's texts long enough to index, row per review."""

    reviews: list[Review]
    keys: np.ndarray  # int64 (len(reviews), TEXT_BANDS), -1 where a text has none


@dataclass(frozen=True)
class Neighbourhood:
    review_ids: list[int]  # the batch's reviews and their neighbourhood, sorted
    text_candidates: frozenset[int]  # reviews sharing an LSH band with a new text
    since: datetime  # the period the background counts cover ...
    until: datetime  # ... (NEIGHBOUR_DAYS before the batch to just after it)
    bands: BandKeys  # the batch's own band keys: looked up here, indexed after scoring
    establishments: tuple[int, ...] = ()  # the batch's establishments ...
    establishments_since: datetime | None = None  # ... and the start of their period


def neighbourhood_of(*, reviews: Sequence[Review]) -> Neighbourhood:
    """The batch's reviews and their neighbourhood (see the module doc)."""
    ids = {r.id for r in reviews}
    reviewers = {r.reviewer_id for r in reviews}
    establishments = {r.establishment_id for r in reviews}
    lo, hi = _in_window(reviews, ESTABLISHMENT_DAYS)
    near_lo, _ = _in_window(reviews, NEIGHBOUR_DAYS)
    recent = Review.objects.filter(created_at__gte=near_lo, created_at__lte=hi)

    # Reviewers tied by an identifier, and co-reviewers of the touched places close in time.
    # A /24 network is shared by whole carrier NATs and hotel wifis: it corroborates
    # (the detectors see it on the rows read) but never defines a neighbourhood,
    # or every guest of a big network would look tied to the others.
    devices = {r.device_hash for r in reviews} - {""}
    ips = {r.ip_hash for r in reviews} - {""}
    emails = {r.reviewer.email_hash for r in reviews} - {""}
    tied = Q(pk__in=[])
    if devices:
        tied |= Q(device_hash__in=devices)
    if ips:
        tied |= Q(ip_hash__in=ips)
    neighbours = set(
        recent.filter(tied).values_list("reviewer_id", flat=True).distinct()[:MAX_TIED_REVIEWERS]
    )
    # Lockstep needs co-reviewers sharing places with the batch's reviewers; at a
    # busy moment there are more than the cap, and those on the most of the
    # touched establishments come first (the batch's own reviewers, ranked
    # among them, are taken out after).
    step_lo, _ = _in_window(reviews, LOCKSTEP_DAYS)
    neighbours |= _co_reviewers(establishments, since=step_lo, until=hi, own=reviewers)
    if emails:
        neighbours |= set(Reviewer.objects.filter(email_hash__in=emails)
                          .values_list("id", flat=True)[:MAX_TIED_REVIEWERS])
    bands = _band_keys(reviews)
    text_ids, text_reviewers = _text_candidates(bands, own=reviewers, since=near_lo)
    neighbours |= text_reviewers
    neighbours -= reviewers

    found = set(Review.objects.filter(reviewer_id__any=reviewers).values_list("id", flat=True))
    found |= {row[0] for row in _most_recent_of(establishments, since=lo, until=hi,
                                                limit=ESTABLISHMENT_ROWS)}
    if neighbours:
        found |= set(
            recent.filter(reviewer_id__any=neighbours).order_by("-created_at")
            .values_list("id", flat=True)[:MAX_NEIGHBOUR_REVIEWS]
        )
    return Neighbourhood(sorted(found | ids | text_ids), frozenset(text_ids), near_lo, hi, bands,
                         tuple(sorted(establishments)), lo)


def _co_reviewers(establishments: set[int], *, since, until, own: set[int]) -> set[int]:
    """Up to MAX_CO_REVIEWERS reviewers (not in ``own``) among the
    CO_REVIEW_ROWS most recent reviews of each of ``establishments`` in
    [since, until], those on the most of them first (then by id)."""
    rows = _most_recent_of(establishments, since=since, until=until, limit=CO_REVIEW_ROWS,
                           columns=("reviewer_id", "establishment_id"))
    if not rows:
        return set()
    reviewer, establishment = np.array(rows, dtype=np.int64).T
    pair = row_groups(reviewer, establishment)  # dense, in (reviewer, place) order
    reviewer_of_pair = np.empty(int(pair.max()) + 1, dtype=np.int64)
    reviewer_of_pair[pair] = reviewer
    reviewer, places = unique_counts(reviewer_of_pair, presorted=True)
    keep = ~np.isin(reviewer, list(own))
    reviewer, places = reviewer[keep], places[keep]
    ranked = reviewer[np.lexsort((reviewer, -places))]
    return set(ranked[:MAX_CO_REVIEWERS].tolist())


def _most_recent_of(establishments: set[int], *, since, until, limit: int,
                    columns: tuple[str, ...] = ("id",)) -> list[tuple]:
    """``columns`` of each establishment's ``limit`` most recent reviews in [since, until]."""
    if not establishments:
        return []
    if connection.vendor == "postgresql":
        # One backward walk of the (establishment, created_at) index per establishment.
        table = connection.ops.quote_name(Review._meta.db_table)
        selected = ", ".join(f"r.{connection.ops.quote_name(c)}" for c in columns)
        inner = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {selected} FROM unnest(%s::bigint[]) AS e(id) CROSS JOIN LATERAL ("  # noqa: S608
                f"SELECT {inner} FROM {table} WHERE establishment_id = e.id AND created_at >= %s "
                "AND created_at <= %s ORDER BY created_at DESC LIMIT %s) AS r",
                [bigint_array(sorted(establishments)), since, until, limit],
            )
            return cursor.fetchall()
    ranked = (Review.objects.filter(establishment_id__in=establishments, created_at__gte=since,
                                    created_at__lte=until)
              .annotate(recency=Window(RowNumber(), partition_by=F("establishment_id"),
                                       order_by=F("created_at").desc())))
    return list(ranked.filter(recency__lte=limit).values_list(*columns))


def burst_background_of(*, frame: ReviewFrame, near: Neighbourhood,
                        negative_max_rating: float) -> tuple[np.ndarray, np.ndarray]:
    """The negative reviews of the batch's establishments in their period that the
    frame does not hold, as (establishment id, POSIX seconds): what the burst
    detector counts in its baseline besides the rows it reads
    (ml.bursts.BurstDetector ``background``)."""
    ids, establishments, seconds = review_times(
        establishments=near.establishments, max_rating=negative_max_rating,
        since=near.establishments_since, until=near.until)
    outside = ~np.isin(ids, frame.review_ids)
    return establishments[outside], seconds[outside]


def praise_background_of(*, local: ReviewFrame, near: Neighbourhood,
                         negatives: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """The positive reviews of the batch's establishments in their period that the
    frame does not hold, as (establishment id, POSIX seconds), for the praise
    burst detector's baseline (``local``: the frame's rows of those establishments;
    ``negatives``: their unread negative reviews, ``burst_background_of``).

    Praise is most of a busy place's reviews and has no index of its own, so its
    times are not read: each establishment's review count over the period (kept
    for TOTAL_CACHE_SECONDS), less the rows the frame holds and the unread
    negative reviews, is spread evenly over the part of the period older than
    its ESTABLISHMENT_ROWS most recent reviews, which the frame holds in full.
    Three-star reviews count as praise here: a busier baseline, fewer bursts."""
    establishments = list(near.establishments)
    since, until = near.establishments_since, near.until
    if not establishments or since is None:
        return np.zeros(0, np.int64), np.zeros(0)
    counts = _review_counts(establishments, since=since, until=until, days=ESTABLISHMENT_DAYS)

    lo = since.timestamp()
    place = np.asarray(local.columns.establishment, dtype=np.int64)
    when = np.asarray(local.columns.created_at, dtype=np.float64)
    read = np.isin(place, establishments) & (when >= lo)
    place, when = place[read], when[read]
    order = np.lexsort((-when, place))  # by establishment, most recent first
    place, when = place[order], when[order]
    ids, first, rows_read = np.unique(place, return_index=True, return_counts=True)
    # Everything unread is older than the establishment's most recent rows.
    edge = when[first + np.minimum(rows_read, ESTABLISHMENT_ROWS) - 1]
    negative_ids, negative_counts = np.unique(np.asarray(negatives[0], dtype=np.int64),
                                              return_counts=True)
    unread_negative = np.zeros(len(ids), dtype=np.int64)
    known = np.isin(ids, negative_ids)
    unread_negative[known] = negative_counts[np.searchsorted(negative_ids, ids[known])]
    total = np.array([counts.get(int(e), 0) for e in ids.tolist()], dtype=np.int64)
    unread = np.maximum(total - rows_read - unread_negative, 0)
    n = int(unread.sum())
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    step = np.arange(n) - np.repeat(np.cumsum(unread) - unread, unread)
    seconds = lo + np.repeat((edge - lo) / np.maximum(unread, 1), unread) * step
    return np.repeat(ids, unread), seconds


#: The table's review count over a period changes slowly: recount at most this often.
TOTAL_CACHE_SECONDS = 300


def background_of(*, frame: ReviewFrame, near: Neighbourhood) -> tuple[np.ndarray, np.ndarray,
                                                                        float]:
    """The table's activity around a neighbourhood: each of its establishments' review
    count over the period, and the whole table's (ml.rings.RingDetector ``background``).

    Counts over NEIGHBOUR_DAYS move slowly: each is kept for TOTAL_CACHE_SECONDS,
    so consecutive batches on the same establishments count them once (and all
    are counted afresh when the cache is away)."""
    establishments = np.unique(frame.columns.establishment)[:MAX_TIED_REVIEWERS].tolist()
    counts = _review_counts(establishments, since=near.since, until=near.until,
                            days=NEIGHBOUR_DAYS, whole_table=True)
    return (np.array(establishments, dtype=np.int64),
            np.array([counts[e] for e in establishments], dtype=np.float64), float(counts["all"]))


def _review_counts(establishments: list[int], *, since, until, days: float,
                   whole_table: bool = False) -> dict[object, int]:
    """Reviews of each establishment in [since, until] (and, with ``whole_table``,
    of the whole table under "all"), a period of ``days`` days: each count is kept
    for TOTAL_CACHE_SECONDS under the period's last day and length, and counted
    afresh when missing (or when the cache is away)."""
    prefix = f"detection:reviews-in-window:{until.date().isoformat()}:{int(days)}"
    names = [*establishments, "all"] if whole_table else list(establishments)
    counts = _cached({f"{prefix}:{e}": e for e in names})
    missing = [e for e in establishments if e not in counts]
    if missing:
        fresh = dict(Review.objects.filter(establishment_id__any=missing, created_at__gte=since,
                                           created_at__lte=until)
                     .values("establishment_id").annotate(n=Count("id"))
                     .values_list("establishment_id", "n"))
        counts.update({e: fresh.get(e, 0) for e in missing})
    if whole_table and "all" not in counts:
        counts["all"] = Review.objects.filter(created_at__gte=since,
                                              created_at__lte=until).count()
    kept = [*missing, "all"] if whole_table else missing
    if kept:
        _cache_for_a_while({f"{prefix}:{e}": counts[e] for e in kept})
    return counts


def _cached(keys: dict[str, object]) -> dict[object, int]:
    """The cached values of ``keys`` (cache key -> name), by name; none when the
    cache is away (then everything is counted afresh)."""
    try:
        return {keys[k]: v for k, v in cache.get_many(list(keys)).items()}
    except Exception:  # any cache failure is a miss
        logger.warning("cache unavailable; counting afresh", exc_info=True)
        return {}


def _cache_for_a_while(values: dict[str, int]) -> None:
    try:
        cache.set_many(values, TOTAL_CACHE_SECONDS)
    except Exception:  # the counts are only an optimisation
        logger.warning("cache unavailable; counts not kept", exc_info=True)


def _band_keys(reviews: Sequence[Review]) -> BandKeys:
    indexed = [r for r in reviews if len(r.text or "") >= MIN_TEXT_CHARS]
    if not indexed:
        return BandKeys([], np.zeros((0, TEXT_BANDS), dtype=np.int64))
    signatures = minhash_signatures([r.text for r in indexed], num_perm=TEXT_PERMUTATIONS)
    return BandKeys(indexed, lsh_band_keys(signatures, bands=TEXT_BANDS))


def _text_candidates(bands: BandKeys, *, own: set[int], since) -> tuple[set[int], set[int]]:
    """Reviews (ids, reviewer ids) whose text shares an LSH band with a new text,
    written by someone other than the batch's reviewers (``own``)."""
    wanted = sorted(set(bands.keys[bands.keys >= 0].tolist()))
    if not wanted:
        return set(), set()
    rows = (
        TextBand.objects.filter(key__any=wanted, created_at__gte=since)
        .exclude(reviewer_id__any=own)
        .values_list("review_id", "reviewer_id")
        .distinct()[:MAX_TEXT_CANDIDATES]
    )
    ids, reviewers = set(), set()
    for review_id, reviewer_id in rows:
        ids.add(review_id)
        reviewers.add(reviewer_id)
    return ids, reviewers


def text_index_add(*, bands: BandKeys) -> int:
    """Put a batch's band keys (computed once, by ``neighbourhood_of``) in the
    persistent band index.

    Called once per review, in the transaction that scores it (a rolled-back
    scoring rolls this back too). One INSERT of arrays on PostgreSQL.
    """
    indexed, keys = bands.reviews, bands.keys
    if not indexed:
        return 0
    keep = keys >= 0
    per_review = keep.sum(axis=1)
    review_ids = np.repeat([r.id for r in indexed], per_review).tolist()
    reviewer_ids = np.repeat([r.reviewer_id for r in indexed], per_review).tolist()
    band_keys = keys[keep].tolist()
    if connection.vendor == "postgresql":
        # Array literals, one parameter each: psycopg adapting 16 values a review
        # one by one cost more than the insert.
        table = connection.ops.quote_name(TextBand._meta.db_table)
        epochs = np.repeat([r.created_at.timestamp() for r in indexed], per_review)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (review_id, reviewer_id, key, created_at) "  # noqa: S608
                "SELECT r, v, k, to_timestamp(c) FROM unnest(%s::bigint[], %s::bigint[], "
                "%s::bigint[], %s::float8[]) AS u(r, v, k, c)",
                [bigint_array(review_ids), bigint_array(reviewer_ids), bigint_array(band_keys),
                 float_array(epochs.tolist())],
            )
    else:
        created = [r.created_at for r, n in zip(indexed, per_review.tolist(), strict=True)
                   for _ in range(n)]
        TextBand.objects.bulk_create(
            [TextBand(review_id=a, reviewer_id=b, key=k, created_at=c)
             for a, b, k, c in zip(review_ids, reviewer_ids, band_keys, created, strict=True)],
            batch_size=2_000,
        )
    return len(band_keys)


# --------------------------------------------------------------------------- #
# Findings


@dataclass(frozen=True)
class LiveFinding:
    finding: CaseFinding
    target_review_ids: frozenset[int]  # the batch's reviews this finding holds
    # Fusion component: ring_member or review_bombing; None for an incident
    # that only a moderator weighs (its reviews are not held for it).
    component: str | None
    alert_establishments: tuple[int, ...]
    alert_kind: str


@dataclass
class LiveResult:
    findings: list[LiveFinding] = field(default_factory=list)
    # review id -> fusion components (ring_member, review_bombing) in [0, 1]
    components: dict[int, dict[str, float]] = field(default_factory=dict)
    # review id -> informational reason records (organic outrage)
    notes: dict[int, list[dict]] = field(default_factory=dict)


def detect_live(*, frame: ReviewFrame, near: Neighbourhood,
                target_ids: Sequence[int]) -> LiveResult:
    """Rings and bursts of the neighbourhood that the batch's reviews take part in."""
    from .batch import burst_findings, ring_findings  # one description of findings

    result = LiveResult()
    targets = set(int(i) for i in target_ids)
    if not len(frame):
        return result
    is_target = np.isin(frame.review_ids, list(targets))
    cols = frame.columns

    # Only the rings and bursts the batch's reviews join are described: the
    # neighbourhood's others are reconciliation's (their evidence is read the same).
    rings = RingDetector().fit(cols, background=background_of(frame=frame, near=near),
                               focus=np.flatnonzero(is_target))
    for finding in ring_findings(frame, rings, since_epoch=None).findings:
        hit = targets & set(finding.review_ids)
        if not hit or finding.severity < MIN_RING_SCORE:
            continue
        result.findings.append(LiveFinding(
            finding=finding, target_review_ids=frozenset(hit), component="ring_member",
            alert_establishments=finding.establishment_ids,
            alert_kind="sock_puppet_ring",
        ))

    # Bursts of complaints (bombing) and of praise (promotion: one place's sock
    # puppets) on the touched establishments.
    touched = np.isin(cols.establishment, np.unique(cols.establishment[is_target]))
    local = frame.take(touched)
    focus = np.flatnonzero(is_target[touched])
    bombing = BurstDetector()
    negatives = burst_background_of(frame=frame, near=near,
                                    negative_max_rating=bombing.negative_max_rating)
    praise = BurstDetector(polarity="positive")
    for detector, background, component, alert_kind in (
        (bombing, negatives, "review_bombing", "review_bombing"),
        (praise, praise_background_of(local=local, near=near, negatives=negatives),
         "ring_member", "sock_puppet_ring"),
    ):
        fit = {"background": background, "focus": focus}
        detector = bursts_knowing_newcomers(detector.fit(local.columns, **fit), local.columns,
                                            **fit)
        for finding in burst_findings(local, detector, since_epoch=None).findings:
            hit = targets & set(finding.review_ids)
            if hit:
                # A suspected burst opens its case but neither holds nor alerts the owner.
                result.findings.append(LiveFinding(
                    finding=finding, target_review_ids=frozenset(hit),
                    component=component if finding.holds else None,
                    alert_establishments=finding.establishment_ids if finding.holds else (),
                    alert_kind=alert_kind,
                ))
        for burst in detector.bursts_:
            if burst.label != "organic":
                continue
            # Organic outrage (enthusiasm): information for the moderator, never a hold.
            for review_id in local.review_ids[burst.reviews].tolist():
                if review_id in targets:
                    result.notes[review_id] = reason_records(
                        r for r in burst.reasons if r.code == "burst_organic")

    for live in result.findings:
        if live.component is None:
            continue
        for review_id in live.target_review_ids:
            result.components.setdefault(review_id, {})[live.component] = 1.0
    return result


def bursts_knowing_newcomers(detector: BurstDetector, cols: ReviewColumns,
                             **fit) -> BurstDetector:
    """A burst is suspected only when its authors are newcomers to the platform,
    which a frame of recent rows cannot tell: when ``detector`` found a suspected
    burst, its authors' first reviews are read from the table and the bursts are
    found again with them (``fit``: the first fit's other arguments)."""
    suspects = [b.reviews for b in detector.bursts_ if b.label == "suspected"]
    if not suspects:
        return detector
    rows = np.concatenate(suspects)
    authors = cols.reviewer[rows]
    first = reviewers_first_review_at(ids=set(authors[authors >= 0].tolist()))
    first_review_at = np.full(len(cols), np.nan)
    first_review_at[rows] = [first.get(a, np.nan) for a in authors.tolist()]
    return detector.fit(cols, first_review_at=first_review_at, **fit)


# --------------------------------------------------------------------------- #
# What reconciliation finds


#: An attack whose latest review is older than this is history, not an alert.
ALERT_FRESH_HOURS = 24.0
#: Reconciliation holds the still-published reviews of an incident only when this recent.
RECONCILED_HOLD_DAYS = 7.0


def incident_apply(*, finding: CaseFinding, case_id: int) -> int:
    """A ring or bombing found by reconciliation (slow, camouflaged, spread out):
    its still-published recent reviews go through the one hold rule with the
    incident as a component, and a fresh one raises its establishments' alert.
    Returns how many reviews were held."""
    component = "ring_member" if finding.kind == "sock_puppet_ring" else "review_bombing"
    now = timezone.now()
    recent = set(
        Review.objects.filter(
            id__in=list(finding.review_ids), status=Review.Status.PUBLISHED,
            created_at__gte=now - timedelta(days=RECONCILED_HOLD_DAYS),
        ).values_list("id", flat=True)
    )
    held = 0
    for review_id, (partner, stored) in review_verdict_state(ids=recent).items():
        held += hold_on_new_evidence(
            review_id=review_id, partner=partner, stored=stored, component=component,
            reasons=[component_record(component), *finding.reasons[:3]],
        )
    latest = Review.objects.filter(id__in=list(finding.review_ids)).order_by(
        "-created_at").values_list("created_at", flat=True).first()
    if latest is not None and latest >= now - timedelta(hours=ALERT_FRESH_HOURS):
        counts = {"reviews": len(finding.review_ids), "reviewers": len(finding.reviewer_ids),
                  "held": reviews_held_among(ids=finding.review_ids)}
        establishment_alerts_raise(
            establishment_ids=finding.establishment_ids, kind=finding.kind, seen_at=now,
            counts=counts, reasons=finding.reasons[:4], case_id=case_id,
        )
    return held
