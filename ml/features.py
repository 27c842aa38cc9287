"""Behavioural features of reviews, computed column-wise from a batch of reviews.

Every function takes whole columns (numpy arrays) and groups rows by sorting
(``np.unique``, ``np.bincount``, ``np.lexsort``), never with per-row Python
loops, so the same code serves one review with its history and millions of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from ml.arrays import row_groups, sorted_unique

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class ReviewColumns:
    """One row per review; every array has length n.

    Identifier columns are int64 codes (factorised hashed identifiers), -1 where
    unknown. A row with an unknown reviewer or establishment is treated as the
    only review of its own reviewer or establishment.
    """

    reviewer: np.ndarray  # int64 reviewer codes
    establishment: np.ndarray  # int64 establishment codes
    rating: np.ndarray  # float64 in 1..5, NaN unknown
    created_at: np.ndarray  # float64 POSIX seconds when the review was written, NaN unknown
    account_created_at: np.ndarray  # float64 POSIX seconds the account was created, NaN unknown
    verified_stay: np.ndarray | None = None  # bool, True when a booking reference was given
    email: np.ndarray | None = None  # int64 codes, -1 unknown
    device: np.ndarray | None = None
    ip: np.ndarray | None = None
    ip24: np.ndarray | None = None
    text: Sequence[str] | None = None
    # int64 code of the platform (partner) each account belongs to, or None: one
    # platform. Accounts are per platform, so a guest has one on each; identifiers
    # are compared among the accounts of the same platform only.
    platform: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.reviewer)
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"column {name!r} has {len(value)} rows, reviewer has {n}")

    def __len__(self) -> int:
        return len(self.reviewer)


@dataclass(frozen=True)
class FeatureMatrix:
    """Named float64 feature columns, one row per review (or per reviewer)."""

    names: tuple[str, ...]
    values: np.ndarray  # float64, shape (n, len(names))

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape[1] != len(self.names):
            raise ValueError(
                f"values has shape {self.values.shape}, expected (n, {len(self.names)})"
            )
        if len(set(self.names)) != len(self.names):
            raise ValueError("feature names must be unique")

    def __len__(self) -> int:
        return self.values.shape[0]

    def column(self, name: str) -> np.ndarray:
        """The values of feature ``name`` (a view, shape (n,))."""
        try:
            return self.values[:, self.names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def take(self, rows: np.ndarray) -> FeatureMatrix:
        """The matrix restricted to ``rows`` (integer indices or a boolean mask)."""
        return FeatureMatrix(self.names, self.values[np.asarray(rows)])


REVIEW_FEATURES: tuple[str, ...] = (
    "rating_deviation",
    "rating_extremity",
    "account_age_days",
    "reviewer_review_count",
    "reviewer_establishment_count",
    "reviewer_max_reviews_per_day",
    "first_review_of_account",
    "establishment_review_count",
    "verified_stay",
    "email_shared_reviewers",
    "device_shared_reviewers",
    "ip_shared_reviewers",
    "ip24_shared_reviewers",
)


def review_features(cols: ReviewColumns) -> FeatureMatrix:
    """Per-review behavioural features, in the order of ``REVIEW_FEATURES``.

    Features are computed over all rows of ``cols`` (the reviews to score plus
    the history of their reviewers and establishments); take the target rows
    afterwards with ``FeatureMatrix.take``. NaN means unknown.

    - ``rating_deviation`` (stars, signed): the rating minus the mean rating of the
      establishment's OTHER rated reviews; 0 when there are none, NaN when the
      rating itself is unknown. A 1-star review where the others average 4.5 is -3.5.
    - ``rating_extremity`` (0..1): ``|rating - 3| / 2``, so 1 for 1 or 5 stars,
      0.5 for 2 or 4, 0 for 3; NaN when unknown.
    - ``account_age_days`` (days): review time minus account creation time,
      clipped at 0; NaN when either is unknown.
    - ``reviewer_review_count`` (reviews): rows by the same reviewer.
    - ``reviewer_establishment_count`` (establishments): distinct establishments
      the reviewer reviewed.
    - ``reviewer_max_reviews_per_day`` (reviews): the most reviews the reviewer
      wrote within any 24-hour window (a review at t and one at t + 24 h count
      together); reviews with an unknown time count only themselves; at least 1.
    - ``first_review_of_account`` (0/1): 1 on the reviewer's earliest review
      (ties and unknown times broken by row order, unknown times last), so
      exactly one row per reviewer has 1.
    - ``establishment_review_count`` (reviews): rows about the same establishment.
    - ``verified_stay`` (0/1): 1 when a booking reference was given; NaN when the
      column is absent.
    - ``{email,device,ip,ip24}_shared_reviewers`` (reviewers): how many OTHER
      reviewers of the same platform (``platform``; all one platform when it is
      None) used the same identifier in these rows; NaN when the column is absent
      or the identifier unknown. The same e-mail on two platforms is one guest
      with an account on each, not two accounts.
    """
    n = len(cols)
    reviewer = _group_codes(cols.reviewer)
    establishment = _group_codes(cols.establishment)
    rating = np.asarray(cols.rating, dtype=np.float64)
    created = np.asarray(cols.created_at, dtype=np.float64)
    account_created = np.asarray(cols.account_created_at, dtype=np.float64)

    reviewer_count = np.bincount(reviewer)
    establishment_count = np.bincount(establishment)

    with np.errstate(invalid="ignore"):
        account_age = np.maximum((created - account_created) / SECONDS_PER_DAY, 0.0)

    out = {
        "rating_deviation": _rating_deviation(rating, establishment),
        "rating_extremity": np.abs(rating - 3.0) / 2.0,
        "account_age_days": account_age,
        "reviewer_review_count": reviewer_count[reviewer].astype(np.float64),
        "reviewer_establishment_count": _distinct_per_group(reviewer, establishment)[reviewer],
        "reviewer_max_reviews_per_day": _max_per_window(reviewer, created, SECONDS_PER_DAY),
        "first_review_of_account": _first_in_group(reviewer, created),
        "establishment_review_count": establishment_count[establishment].astype(np.float64),
        "verified_stay": (
            np.full(n, np.nan)
            if cols.verified_stay is None
            else np.asarray(cols.verified_stay, dtype=bool).astype(np.float64)
        ),
    }
    for name in ("email", "device", "ip", "ip24"):
        out[f"{name}_shared_reviewers"] = _shared_reviewers(getattr(cols, name), reviewer, n,
                                                            platform=cols.platform)
    values = (
        np.column_stack([out[name] for name in REVIEW_FEATURES])
        if n
        else np.empty((0, len(REVIEW_FEATURES)))
    )
    return FeatureMatrix(REVIEW_FEATURES, values.astype(np.float64, copy=False))


def _group_codes(codes: np.ndarray) -> np.ndarray:
    """Dense group indices 0..g-1; every unknown (-1) code becomes its own group."""
    codes = np.asarray(codes, dtype=np.int64)
    unknown = codes < 0
    _, inverse = np.unique(np.where(unknown, -1, codes), return_inverse=True)
    inverse = inverse.astype(np.int64, copy=False)
    if unknown.any():
        known_groups = int(inverse[~unknown].max()) + 1 if (~unknown).any() else 0
        inverse = inverse.copy()
        inverse[unknown] = known_groups + np.arange(int(unknown.sum()))
        # Close the gap left by the shared -1 group so indices stay dense.
        _, inverse = np.unique(inverse, return_inverse=True)
    return inverse.astype(np.int64, copy=False)


def _rating_deviation(rating: np.ndarray, group: np.ndarray) -> np.ndarray:
    known = ~np.isnan(rating)
    size = int(group.max()) + 1 if len(group) else 0
    total = np.bincount(group, weights=np.where(known, rating, 0.0), minlength=size)
    count = np.bincount(group, weights=known.astype(np.float64), minlength=size)
    others = count[group] - known
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_others = (total[group] - np.where(known, rating, 0.0)) / others
    deviation = np.where(others > 0, rating - mean_others, 0.0)
    return np.where(known, deviation, np.nan)


def _distinct_per_group(group: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Number of distinct ``member`` values per group, indexed by dense group index."""
    if len(group) == 0:
        return np.zeros(0)
    width = int(member.max()) + 1
    pair_keys = sorted_unique(group * width + member)
    return np.bincount(pair_keys // width, minlength=int(group.max()) + 1).astype(np.float64)


def _max_per_window(group: np.ndarray, when: np.ndarray, window: float) -> np.ndarray:
    """Per row, the largest number of its group's rows inside any closed window of
    ``window`` seconds ending at one of the group's rows (rows with unknown time: 1)."""
    n = len(group)
    best = np.ones(n)
    known = ~np.isnan(when)
    if not known.any():
        return best
    idx = np.flatnonzero(known)
    g = group[idx]
    t = np.floor(when[idx]).astype(np.int64)
    t -= t.min()
    span = int(t.max()) + int(window) + 1
    if (int(g.max()) + 1) * span >= np.iinfo(np.int64).max:
        raise ValueError("time span too large for window counting")
    order = np.lexsort((t, g))
    key = g[order] * span + t[order]
    start = np.searchsorted(key, key - int(window), side="left")
    in_window = np.arange(len(key)) - start + 1
    size = int(group.max()) + 1
    per_group = np.ones(size)
    np.maximum.at(per_group, g[order], in_window)
    return per_group[group]


def _first_in_group(group: np.ndarray, when: np.ndarray) -> np.ndarray:
    n = len(group)
    first = np.zeros(n)
    if n == 0:
        return first
    order = np.lexsort((np.arange(n), np.where(np.isnan(when), np.inf, when), group))
    sorted_group = group[order]
    starts = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
    first[order[starts]] = 1.0
    return first


def _shared_reviewers(codes: np.ndarray | None, reviewer: np.ndarray, n: int, *,
                      platform: np.ndarray | None = None) -> np.ndarray:
    if codes is None:
        return np.full(n, np.nan)
    codes = np.asarray(codes, dtype=np.int64)
    known = codes >= 0
    result = np.full(n, np.nan)
    if not known.any():
        return result
    if platform is None:
        _, code_group = np.unique(codes[known], return_inverse=True)
    else:  # one group per (platform, identifier)
        code_group = row_groups(np.asarray(platform, dtype=np.int64)[known], codes[known])
    distinct = _distinct_per_group(code_group.astype(np.int64), reviewer[known])
    result[known] = distinct[code_group] - 1.0
    return result


def graph_features(
    reviewer: np.ndarray,
    establishment: np.ndarray,
    *,
    scores: dict[str, np.ndarray] | None = None,
) -> FeatureMatrix:
    """Features of each review from the reviewer x establishment graph.

    ``reviewer`` and ``establishment`` are int64 codes per review (-1 unknown:
    its own node). ``scores`` are optional per-review numbers (e.g. a review's
    prior suspiciousness, or a reviewer-level prior repeated on each of its rows)
    to aggregate over the graph's neighbourhoods. Columns:

    - ``reviewer_degree`` (reviews): reviews written by the reviewer.
    - ``establishment_degree`` (reviews): reviews of the establishment.
    - ``establishment_newcomer_share`` (0..1): share of the establishment's
      reviews written by reviewers with a single review.
    - ``establishment_mean_log_reviewer_degree`` (log reviews): mean of
      ``log(reviewer_degree)`` over the establishment's reviews.
    - per score ``s``: ``s`` itself; ``s_reviewer_mean`` and ``s_establishment_mean``
      (mean over the reviewer's and the establishment's reviews); and
      ``s_establishment_rank`` (0..1: the share of the establishment's reviews
      with a lower ``s``, ties counting half; 0.5 when alone; NaN where ``s`` is).

    Every column depends only on the graph and the scores, never on row order or
    on the numeric values of the codes.
    """
    rev = _group_codes(reviewer)
    est = _group_codes(establishment)
    rev_degree = np.bincount(rev).astype(np.float64)[rev]
    est_degree = np.bincount(est).astype(np.float64)[est]
    names = [
        "reviewer_degree",
        "establishment_degree",
        "establishment_newcomer_share",
        "establishment_mean_log_reviewer_degree",
    ]
    columns = [
        rev_degree,
        est_degree,
        _group_mean((rev_degree == 1).astype(np.float64), est),
        _group_mean(np.log(rev_degree), est),
    ]
    for name, values in (scores or {}).items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != rev.shape:
            raise ValueError(f"score {name!r} has shape {values.shape}, expected {rev.shape}")
        names += [
            name,
            f"{name}_reviewer_mean",
            f"{name}_establishment_mean",
            f"{name}_establishment_rank",
        ]
        columns += [
            values,
            _group_mean(values, rev),
            _group_mean(values, est),
            _rank_within(values, est),
        ]
    values = np.column_stack(columns) if len(rev) else np.empty((0, len(names)))
    return FeatureMatrix(tuple(names), values)


def reviewer_features(
    reviewer: np.ndarray, features: FeatureMatrix
) -> tuple[np.ndarray, FeatureMatrix]:
    """Aggregate per-review features to one row per reviewer.

    Returns ``(codes, matrix)``: the distinct reviewer codes (sorted; each -1 row
    is its own anonymous reviewer and keeps code -1) and, per reviewer, the mean
    and the max of every feature over its reviews (``f_mean``, ``f_max``; NaN
    values are ignored, NaN when all are NaN) plus ``review_count``.
    """
    group = _group_codes(reviewer)
    size = int(group.max()) + 1 if len(group) else 0
    codes = np.full(size, -1, dtype=np.int64)
    codes[group] = np.asarray(reviewer, dtype=np.int64)
    count = np.bincount(group, minlength=size).astype(np.float64)
    names: list[str] = []
    columns: list[np.ndarray] = []
    for j, name in enumerate(features.names):
        values = features.values[:, j]
        known = ~np.isnan(values)
        total = np.bincount(group, weights=np.where(known, values, 0.0), minlength=size)
        n_known = np.bincount(group, weights=known.astype(np.float64), minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n_known > 0, total / n_known, np.nan)
        top = np.full(size, -np.inf)
        np.maximum.at(top, group[known], values[known])
        names += [f"{name}_mean", f"{name}_max"]
        columns += [mean, np.where(np.isinf(top), np.nan, top)]
    names.append("review_count")
    columns.append(count)
    values = np.column_stack(columns) if size else np.empty((0, len(names)))
    return codes, FeatureMatrix(tuple(names), values)


def _group_mean(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, the mean of ``values`` over the row's group."""
    if len(group) == 0:
        return np.zeros(0)
    return (np.bincount(group, weights=values) / np.bincount(group))[group]


def _rank_within(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, the share of its group's rows with a lower value, ties counting half."""
    n = len(values)
    if n == 0:
        return np.zeros(0)
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    position = np.arange(n)
    new_group = np.r_[True, g[1:] != g[:-1]]
    new_run = new_group | np.r_[True, v[1:] != v[:-1]]
    run = np.cumsum(new_run) - 1
    run_start = position[new_run]
    run_end = np.r_[run_start[1:], n] - 1
    group_start = np.maximum.accumulate(np.where(new_group, position, 0))
    group_size = np.bincount(group)[g]
    # Rows strictly below plus half of the tied rows other than itself.
    below = run_start[run] - group_start + (run_end[run] - run_start[run]) / 2.0
    rank = np.empty(n)
    rank[order] = np.where(group_size > 1, below / np.maximum(group_size - 1, 1), 0.5)
    return np.where(np.isnan(values), np.nan, rank)
