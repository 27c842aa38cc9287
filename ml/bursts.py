"""Review bursts per establishment: coordinated bombing or promotion versus organic ones.

A burst is a stretch of negative (or, with ``polarity="positive"``, positive)
reviews of one establishment that its own recent past makes improbable (Poisson tail of the count in a short window
against the trailing baseline rate). Each burst is then characterised by who
wrote it: new accounts without stays, on shared infrastructure, with similar
texts make a coordinated bombing (of praise: a promotion, bought or sock-puppet
reviews of one place); established reviewers with verified stays and diverse
texts make organic outrage (or enthusiasm), which is reported as information
and never scored as fraud. Between the two, a burst whose authors are otherwise clean
(old accounts, stays, their own words) but mostly written by newcomers to the
platform from a few networks or devices that the venue's other guests never
used is "suspected": a case for a moderator, with the reviews left published
(a group of real first-time guests on one network looks the same, and honest
criticism is never buried on that alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.stats import poisson

from ml.features import SECONDS_PER_DAY, ReviewColumns
from ml.fusion import Reason
from ml.text import NearDuplicateDetector

__all__ = ["BURST_REASONS", "Burst", "BurstDetector"]


@dataclass(frozen=True)
class Burst:
    establishment: int  # establishment code
    start: float  # POSIX seconds of the first review in the burst
    end: float  # POSIX seconds of the last review
    reviews: np.ndarray  # int64 row indices of the burst's negative (positive) reviews
    label: str  # "bombing" (of positive reviews: "promotion"), "suspected" or "organic"
    # 0..1, share of coordination signals (>= threshold: coordinated); texts are
    # compared only where they could tip the label, and count as not copied elsewhere.
    coordination: float
    log10p: float  # -log10 chance probability of the burst's peak window
    reasons: list[Reason]
    # Per review of ``reviews`` (same order): the share of the coordination marks
    # that review itself carries (new account, no stay, identifier shared inside
    # the burst, copied text, one-shot account; same weights as ``coordination``).
    # An honest review caught in an attack's window scores low here.
    member_coordination: np.ndarray | None = None
    # The rows a case lists: for a bombing or promotion, the members carrying at least
    # ``bombing_threshold`` of the marks themselves; for a suspected burst, the
    # newcomers on shared infrastructure; none for organic outrage.
    incident: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


#: The codes of the reasons a burst carries (values named in each ``_reason`` call).
BURST_REASONS: tuple[str, ...] = (
    "burst_detected", "burst_new_accounts", "burst_unverified", "burst_shared_infrastructure",
    "burst_similar_text", "burst_one_shot_accounts", "burst_organic", "burst_suspected",
)


def _reason(code: str, score: float, **values: object) -> Reason:
    assert code in BURST_REASONS, code
    return Reason(code, float(score), values)


class BurstDetector:
    """Review bursts per establishment, labelled coordinated, suspected or organic
    (scikit-learn style).

    Parameters (stored unchanged):
    - ``polarity``: "negative" (bombing) or "positive" (promotion): which
      reviews make a burst, and what a coordinated one is called.
    - ``negative_max_rating``: a review at or below this rating is negative;
      ``positive_min_rating``: at or above this, positive.
    - ``window_days``: the burst window; ``baseline_days``: the trailing period
      before it that sets the establishment's usual rate (or the rate over the
      rest of its history, when higher); ``prior_rate``: the least reviews of
      the polarity per day assumed (so a quiet or new establishment still has a
      baseline).
    - ``alpha``: chance probability (Poisson tail of the window count) under
      which a window is a burst; ``min_count``: least reviews in it.
    - ``new_account_days``: accounts younger than this are new.
    - ``text_threshold``: MinHash similarity for near-duplicates in a burst.
    - ``bombing_threshold``: coordination at or above which a burst is bombing.
    - ``suspect_shared_share``: a burst under ``bombing_threshold`` whose members
      are newcomers sharing identifiers (e-mail, device, IP, /24) with one
      another, at least this share of them and at least ``min_count``, none of
      the values used by two or more of the venue's other reviewers, is
      "suspected" (a case that holds nothing; see the module's docstring).
    - ``established_days``: a reviewer whose first review on the platform is
      at least this much older than the review is established, not a newcomer.

    ``fit(cols)`` sets ``bursts_`` (list of Burst), ``review_burst_`` (burst
    index per row, -1 none) and ``review_score_`` (per row, the coordination of
    a coordinated burst, 0 otherwise, suspected bursts and organic ones
    included; fusion component ``review_bombing``, of a promotion ``ring_member``).

    ``fit(cols, background=(establishment, created_at))``: negative (positive) reviews
    that are not rows of ``cols`` (establishment codes and POSIX seconds, as in
    ``cols``). They count in the window counts and the usual rates exactly as
    rows would, but they are never members of a burst, whose description reads
    the rows only. A caller that reads only the recent part of a busy
    establishment's history in full passes the rest of its reviews of the polarity
    this way, so the baseline is the same as with the whole history.

    ``fit(cols, first_review_at=seconds)``: per row, POSIX seconds of its
    reviewer's first review on the platform, NaN where unknown; where unknown,
    or when not given, the reviewer's earliest row in ``cols`` stands for it
    (a frame holding only recent rows makes established reviewers look new).

    ``fit(cols, focus=rows)``: only the bursts holding at least one of these
    rows are described and kept (a live batch's new reviews): the others are
    found, as without ``focus``, but not described (each description reads its
    members' identifiers and texts).
    """

    def __init__(
        self,
        polarity: str = "negative",
        negative_max_rating: float = 2.0,
        positive_min_rating: float = 4.0,
        window_days: float = 3.0,
        baseline_days: float = 90.0,
        prior_rate: float = 1.0 / 60.0,
        alpha: float = 1e-6,
        min_count: int = 5,
        new_account_days: float = 30.0,
        text_threshold: float = 0.5,
        bombing_threshold: float = 0.5,
        suspect_shared_share: float = 0.5,
        established_days: float = 30.0,
        random_state: int = 0,
    ) -> None:
        self.polarity = polarity
        self.negative_max_rating = negative_max_rating
        self.positive_min_rating = positive_min_rating
        self.window_days = window_days
        self.baseline_days = baseline_days
        self.prior_rate = prior_rate
        self.alpha = alpha
        self.min_count = min_count
        self.new_account_days = new_account_days
        self.text_threshold = text_threshold
        self.bombing_threshold = bombing_threshold
        self.suspect_shared_share = suspect_shared_share
        self.established_days = established_days
        self.random_state = random_state

    @property
    def coordinated_label(self) -> str:
        """The label of a coordinated burst: "bombing", or "promotion" for praise."""
        return "promotion" if self.polarity == "positive" else "bombing"

    def fit(self, cols: ReviewColumns, y: object = None, *,
            background: tuple[np.ndarray, np.ndarray] | None = None,
            focus: np.ndarray | None = None,
            first_review_at: np.ndarray | None = None) -> BurstDetector:
        if self.polarity not in ("negative", "positive"):
            raise ValueError(f"polarity must be 'negative' or 'positive', not {self.polarity!r}")
        n = len(cols)
        establishment = np.asarray(cols.establishment, dtype=np.int64)
        rating = np.asarray(cols.rating, dtype=np.float64)
        day = np.asarray(cols.created_at, dtype=np.float64) / SECONDS_PER_DAY
        polar = (rating >= self.positive_min_rating if self.polarity == "positive"
                 else rating <= self.negative_max_rating)
        events = np.flatnonzero(polar & (establishment >= 0) & ~np.isnan(day))
        self.bursts_: list[Burst] = []
        self.review_burst_ = np.full(n, -1, dtype=np.int64)
        self.review_score_ = np.zeros(n, dtype=np.float64)
        if len(events) == 0:
            return self

        # Events: the rows' reviews of the polarity, then the background's (row
        # -1), those of establishments without such a row dropped.
        event_est, event_day = establishment[events], day[events]
        rows = events
        if background is not None:
            other_est = np.asarray(background[0], dtype=np.int64)
            other_day = np.asarray(background[1], dtype=np.float64) / SECONDS_PER_DAY
            keep = np.isin(other_est, event_est) & ~np.isnan(other_day)
            event_est = np.r_[event_est, other_est[keep]]
            event_day = np.r_[event_day, other_day[keep]]
            rows = np.r_[events, np.full(int(keep.sum()), -1, dtype=np.int64)]

        # Events sorted by (establishment, time) on one exact float key.
        origin = event_day.min() - self.baseline_days - self.window_days - 1.0
        width = event_day.max() - origin + 1.0
        _, est = np.unique(event_est, return_inverse=True)
        key = est * width + (event_day - origin)
        order = np.argsort(key, kind="stable")
        rows, key = rows[order], key[order]
        w, b = self.window_days, self.baseline_days
        in_window = np.arange(len(key)) - np.searchsorted(key, key - w, side="right") + 1
        baseline = np.searchsorted(key, key - w, side="right") - np.searchsorted(
            key, key - w - b, side="right"
        )
        # Usual rate: the trailing baseline, or the establishment's rate over the
        # rest of its history when that is higher (the start of a busy place's
        # history has no trailing baseline yet), never below the prior.
        segment = np.flatnonzero(np.r_[True, est[order][1:] != est[order][:-1]])
        size = np.diff(np.r_[segment, len(key)])
        first_day = np.repeat(key[segment], size)
        last_day = np.repeat(key[np.r_[segment[1:], len(key)] - 1], size)
        elsewhere = (np.repeat(size, size) - in_window) / np.maximum(last_day - first_day - w, w)
        expected = w * np.maximum(np.maximum(baseline / b, elsewhere), self.prior_rate)
        log10p = -np.log10(np.maximum(poisson.sf(in_window - 1, expected), 1e-300))
        anchor = (in_window >= self.min_count) & (log10p >= -np.log10(self.alpha))
        if not anchor.any():
            return self

        # Burst intervals: each anchor covers (t - w, t]; merge overlapping ones
        # of the same establishment (sorted keys make this a running maximum).
        idx = np.flatnonzero(anchor)
        lo, hi = key[idx] - w, key[idx]
        new_run = np.r_[True, lo[1:] > np.maximum.accumulate(hi)[:-1]]
        run = np.cumsum(new_run) - 1
        run_lo = np.minimum.reduceat(lo, np.flatnonzero(new_run))
        run_hi = np.maximum.reduceat(hi, np.flatnonzero(new_run))
        run_p = np.maximum.reduceat(log10p[idx], np.flatnonzero(new_run))
        run_count = np.maximum.reduceat(in_window[idx], np.flatnonzero(new_run))
        run_expected = expected[idx][np.flatnonzero(new_run)]
        first = np.searchsorted(key, run_lo, side="right")
        last = np.searchsorted(key, run_hi, side="right")
        del run

        # A burst's members are its rows; one made only of background events has
        # nothing of this fit's to describe or score.
        spans = [rows[first[k] : last[k]] for k in range(len(run_lo))]
        wanted = np.ones(n, dtype=bool)
        if focus is not None:
            wanted[:] = False
            wanted[np.asarray(focus, dtype=np.int64)] = True
        found = [k for k, span in enumerate(spans) if wanted[span[span >= 0]].any()]
        bursts = [np.sort(spans[k][spans[k] >= 0]) for k in found]
        context = _Context(cols, self, first_review_at)
        # Texts are compared (MinHash, the costly part) only within the bursts
        # whose label they could change: the others are organic whatever their texts.
        marked = [context.marks(members) for members in bursts]
        context.compare_texts([members for members, (signals, _, _) in zip(bursts, marked,
                                                                          strict=True)
                               if context.text_could_tip(signals)])
        for k, members, (signals, marks, shared) in zip(found, bursts, marked, strict=True):
            burst = context.describe(
                members, signals, marks, shared,
                float(run_p[k]), int(run_count[k]), float(run_expected[k])
            )
            self.review_burst_[members] = len(self.bursts_)
            if burst.label == self.coordinated_label:
                self.review_score_[members] = burst.coordination
            self.bursts_.append(burst)
        return self


class _Context:
    """Per-reviewer facts shared by every burst of one fit."""

    #: Weight of the copied-text signal in the coordination (as every signal but
    #: one-shot accounts, 0.5).
    TEXT_WEIGHT = 1.0

    def __init__(self, cols: ReviewColumns, params: BurstDetector,
                 first_review_at: np.ndarray | None) -> None:
        self.cols = cols
        self.params = params
        # Per row: its text nearly duplicates another of its burst (compare_texts).
        self.similar = np.zeros(len(cols), dtype=bool)
        reviewer = np.asarray(cols.reviewer, dtype=np.int64)
        _, inverse, counts = np.unique(reviewer, return_inverse=True, return_counts=True)
        self.reviews_by_reviewer = np.where(reviewer >= 0, counts[inverse], 1)
        self._reviewer_index = inverse
        self._first_review_at = first_review_at
        establishment = np.asarray(cols.establishment, dtype=np.int64)
        self.by_establishment = np.argsort(establishment, kind="stable")
        self.sorted_establishment = establishment[self.by_establishment]
        self.age_days = (
            np.asarray(cols.created_at, dtype=np.float64)
            - np.asarray(cols.account_created_at, dtype=np.float64)
        ) / SECONDS_PER_DAY

    def marks(self, members: np.ndarray) -> tuple[list[tuple[str, float, float]],
                                                  list[tuple[np.ndarray, float]],
                                                  np.ndarray | None]:
        """The burst's coordination signals but copied text: (code, share,
        weight) each, the per-member marks (mark, weight), and the shared-
        infrastructure mark (None without identifiers)."""
        cols, p = self.cols, self.params
        signals: list[tuple[str, float, float]] = []
        marks: list[tuple[np.ndarray, float]] = []
        age = self.age_days[members]
        if (~np.isnan(age)).any():
            new = age < p.new_account_days
            signals.append(("burst_new_accounts", float(np.nanmean(new)), 1.0))
            marks.append((new, 1.0))
        if cols.verified_stay is not None:
            stay = np.asarray(cols.verified_stay, dtype=bool)[members]
            signals.append(("burst_unverified", float(np.mean(~stay)), 1.0))
            marks.append((~stay, 1.0))
        shared = self._shared_infrastructure(members)
        if shared is not None:
            signals.append(("burst_shared_infrastructure", float(shared.mean()), 1.0))
            marks.append((shared, 1.0))
        one_shot = self.reviews_by_reviewer[members] == 1
        signals.append(("burst_one_shot_accounts", float(np.mean(one_shot)), 0.5))
        marks.append((one_shot, 0.5))
        return signals, marks, shared

    def text_could_tip(self, signals: list[tuple[str, float, float]]) -> bool:
        """Whether copied texts, all of them, would make the burst coordinated."""
        if self.cols.text is None:
            return False
        weight = sum(w for _, _, w in signals) + self.TEXT_WEIGHT
        return (sum(s * w for _, s, w in signals) + self.TEXT_WEIGHT) / weight \
            >= self.params.bombing_threshold

    def describe(self, members: np.ndarray, signals: list[tuple[str, float, float]],
                 marks: list[tuple[np.ndarray, float]], shared: np.ndarray | None,
                 log10p: float, count: int, expected: float) -> Burst:
        cols, p = self.cols, self.params
        if cols.text is not None:
            # Texts not compared (they could not tip the label) count as not copied.
            similar = self.similar[members]
            signals = [*signals, ("burst_similar_text", float(similar.mean()), self.TEXT_WEIGHT)]
            marks = [*marks, (similar, self.TEXT_WEIGHT)]

        total_weight = sum(s[2] for s in signals)
        coordination = sum(s[1] * s[2] for s in signals) / total_weight
        member_coordination = sum(m.astype(np.float64) * w for m, w in marks) / total_weight
        if coordination >= p.bombing_threshold:
            label = p.coordinated_label
            incident = members[member_coordination >= p.bombing_threshold]
        elif shared is not None and self._suspect(suspect := shared & self.newcomer[members]):
            label, incident = "suspected", members[suspect]
        else:
            label, incident = "organic", members[:0]
        days = np.asarray(cols.created_at, dtype=np.float64)[members]
        reasons = [
            _reason(
                "burst_detected",
                min(1.0, log10p / 10.0),
                count=count,
                window=p.window_days,
                expected=expected,
                log10p=np.floor(log10p),
                positive=int(p.polarity == "positive"),
            )
        ]
        for code, share, _ in signals:
            if share > 0:
                reasons.append(_reason(code, share, pct=100 * share, days=p.new_account_days))
        if label == "organic":
            reasons.append(_reason("burst_organic", 1.0 - coordination,
                                   positive=int(p.polarity == "positive")))
        elif label == "suspected":
            reasons.append(_reason("burst_suspected", len(incident) / len(members),
                                   members=len(incident), days=p.established_days))
        reasons.sort(key=lambda r: -r.score)
        return Burst(
            establishment=int(cols.establishment[members[0]]),
            start=float(np.nanmin(days)),
            end=float(np.nanmax(days)),
            reviews=members,
            label=label,
            coordination=float(coordination),
            log10p=log10p,
            reasons=reasons,
            member_coordination=member_coordination,
            incident=incident,
        )

    @cached_property
    def newcomer(self) -> np.ndarray:
        """Per row: its reviewer has no review on the platform ``established_days``
        before it (the given first reviews, else the earliest row of the reviewer)."""
        reviewer = np.asarray(self.cols.reviewer, dtype=np.int64)
        created = np.asarray(self.cols.created_at, dtype=np.float64)
        first = np.full(int(self._reviewer_index.max()) + 1, np.inf)
        np.fmin.at(first, self._reviewer_index, created)
        first = np.where(reviewer >= 0, first[self._reviewer_index], created)
        if self._first_review_at is not None:
            first = np.fmin(first, np.asarray(self._first_review_at, dtype=np.float64))
        return ~(first <= created - self.params.established_days * SECONDS_PER_DAY)

    def _suspect(self, marked: np.ndarray) -> bool:
        p = self.params
        return bool(marked.mean() >= p.suspect_shared_share and marked.sum() >= p.min_count)

    def _shared_infrastructure(self, members: np.ndarray) -> np.ndarray | None:
        columns = [
            getattr(self.cols, name)
            for name in ("email", "device", "ip", "ip24")
            if getattr(self.cols, name) is not None
        ]
        if not columns:
            return None
        all_reviewers = np.asarray(self.cols.reviewer, dtype=np.int64)
        reviewer = all_reviewers[members]
        # The venue's own wifi is shared by its honest guests too: identifiers
        # that two or more other reviewers of this establishment used outside
        # the burst are the venue's, not the crew's.
        e = int(self.cols.establishment[members[0]])
        lo, hi = np.searchsorted(self.sorted_establishment, [e, e + 1])
        others = self.by_establishment[lo:hi]
        others = others[~np.isin(others, members)]
        sharing = np.zeros(len(members), dtype=bool)
        for column in columns:
            column = np.asarray(column, dtype=np.int64)
            values = column[members]
            venue = _values_of_many(column[others], all_reviewers[others])
            known = (values >= 0) & ~np.isin(values, venue)
            if known.sum() < 2:
                continue
            # A value used by two or more distinct reviewers of the burst.
            multi = _values_of_many(np.where(known, values, -1), reviewer)
            sharing[known] |= np.isin(values[known], multi)
        return sharing

    def compare_texts(self, bursts: list[np.ndarray]) -> None:
        """Mark the rows whose text nearly duplicates another review of their
        burst (one MinHash pass over these bursts' members, pairs kept within a
        burst)."""
        if not bursts:
            return
        members = np.concatenate(bursts)
        groups = np.repeat(np.arange(len(bursts)), [len(b) for b in bursts])
        texts = [self.cols.text[i] or "" for i in members.tolist()]
        detector = NearDuplicateDetector(
            threshold=self.params.text_threshold, random_state=self.params.random_state
        ).fit(texts, groups=groups)
        self.similar[members] = detector.labels_ >= 0


def _values_of_many(values: np.ndarray, reviewer: np.ndarray, least: int = 2) -> np.ndarray:
    """Known values used by at least ``least`` distinct reviewers."""
    known = values >= 0
    if known.sum() < least:
        return np.empty(0, np.int64)
    v, r = values[known], reviewer[known]
    order = np.lexsort((r, v))
    v, r = v[order], r[order]
    # Distinct (value, reviewer) pairs, then how many per value (v is sorted).
    v = v[np.r_[True, (v[1:] != v[:-1]) | (r[1:] != r[:-1])]]
    start = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    counts = np.diff(np.r_[start, len(v)])
    return v[start][counts >= least]
