"""Unsupervised ranking of reviews and reviewers from their feature matrices.

``AnomalyEnsemble`` averages the rank-normalised scores of several PyOD detectors;
``RankAggregator`` averages directional per-feature ranks (for signals whose
suspicious direction is known, e.g. "fewer reviews is riskier"). Both follow the
scikit-learn / PyOD estimator API and both say which features drove a row up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

_MAD_TO_SIGMA = 1.4826
_DETECTORS = ("ecod", "iforest", "copod", "hbos")


class _FeatureScaler(BaseEstimator):
    """Shared fitting helpers: NaN imputation, robust scales, directional reasons."""

    directions: Sequence[int] | None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN means "unknown" and is imputed
        return tags

    def _check(self, X: np.ndarray, *, reset: bool = False) -> np.ndarray:
        """X as a 2-D float64 array (NaN allowed); checks its width against fit's."""
        if not reset:
            check_is_fitted(self)
        return validate_data(self, X, reset=reset, dtype=np.float64,
                             ensure_all_finite="allow-nan")

    def _fit_location(self, X: np.ndarray) -> None:
        directions = np.zeros(X.shape[1]) if self.directions is None else self.directions
        self.directions_ = np.asarray(directions, dtype=np.float64)
        if (
            self.directions_.shape != (X.shape[1],)
            or not np.isin(self.directions_, (-1, 0, 1)).all()
        ):
            raise ValueError("directions must hold one of -1, 0, 1 per feature")
        with np.errstate(all="ignore"):
            median = np.nanmedian(X, axis=0)
        self.median_ = np.nan_to_num(median, nan=0.0)
        filled = self._impute(X)
        mad = np.median(np.abs(filled - self.median_), axis=0) * _MAD_TO_SIGMA
        # Features that are constant on half the rows (counts, flags) have MAD 0;
        # fall back to the standard deviation, then to 1.
        std = filled.std(axis=0)
        self.scale_ = np.where(mad > 0, mad, np.where(std > 0, std, 1.0))

    def _impute(self, X: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(X), self.median_, X)

    def feature_scores(self, X: np.ndarray) -> np.ndarray:
        """Per-feature robust z-scores in the suspicious direction, shape (n, d).

        ``(x - median) / (1.4826 * MAD)`` of the fitted data, sign-flipped for
        features whose direction is -1 and made absolute for direction 0; NaN
        (unknown) counts as the median, so 0.
        """
        X = self._check(X)
        z = (self._impute(X) - self.median_) / self.scale_
        return np.where(self.directions_ == 0, np.abs(z), z * self.directions_)

    def reasons(
        self,
        X: np.ndarray,
        *,
        feature_names: Sequence[str],
        top_k: int = 3,
        min_z: float = 2.0,
    ) -> list[list[tuple[str, float]]]:
        """Per row, up to ``top_k`` (feature name, robust z) pairs with z >= ``min_z``,
        strongest first: the features that pushed the row towards anomalous."""
        if len(feature_names) != self.n_features_in_:
            raise ValueError("one feature name per column is needed")
        z = self.feature_scores(X)
        order = np.argsort(-z, axis=1, kind="stable")[:, :top_k]
        top = np.take_along_axis(z, order, axis=1)
        names = np.asarray(feature_names, dtype=object)
        result: list[list[tuple[str, float]]] = []
        for row_order, row_z in zip(order, top, strict=True):
            keep = row_z >= min_z
            result.append(
                [
                    (str(n), float(v))
                    for n, v in zip(names[row_order[keep]], row_z[keep], strict=True)
                ]
            )
        return result


class AnomalyEnsemble(_FeatureScaler):
    """Rank-averaged ensemble of PyOD detectors.

    Parameters
    ----------
    detectors : names among "ecod", "iforest", "copod", "hbos".
    directions : optional per-feature -1/0/+1. For +1 (high is suspicious) the
        feature is clipped from below at its median before the detectors see it,
        so an unusually LOW value is never called anomalous (and -1 mirrors it);
        0 or None keeps both tails.
    max_fit_samples : detectors are fitted on a random subsample of at most this
        many rows, which also serves as the reference for rank normalisation.
    chunk_size : rows scored per call to a detector (ECOD and COPOD recompute
        their empirical CDFs over reference + chunk, so this bounds memory).
    n_estimators : trees of the isolation forest.
    random_state : seed for the subsample and the isolation forest.

    ``decision_function`` returns, per row, the mean over detectors of the
    fraction of the reference sample that the detector scored lower (ties
    count half): a number in [0, 1], higher is more anomalous.
    """

    def __init__(
        self,
        detectors: Sequence[str] = _DETECTORS,
        *,
        directions: Sequence[int] | None = None,
        max_fit_samples: int = 50_000,
        chunk_size: int = 50_000,
        n_estimators: int = 100,
        random_state: int | None = None,
    ) -> None:
        self.detectors = detectors
        self.directions = directions
        self.max_fit_samples = max_fit_samples
        self.chunk_size = chunk_size
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: object = None) -> AnomalyEnsemble:
        """Fit every detector on (a subsample of) X; ``y`` is ignored."""
        X = self._check(X, reset=True)
        unknown = set(self.detectors) - set(_DETECTORS)
        if unknown or not self.detectors:
            raise ValueError(f"unknown detectors {sorted(unknown)}; choose from {_DETECTORS}")
        self._fit_location(X)
        rng = np.random.default_rng(self.random_state)
        sample = X
        if len(X) > self.max_fit_samples:
            sample = X[np.sort(rng.choice(len(X), self.max_fit_samples, replace=False))]
        prepared = self._prepare(sample)
        seed = int(rng.integers(2**31 - 1))
        self.detectors_ = [self._make(name, seed).fit(prepared) for name in self.detectors]
        self.reference_scores_ = [
            np.sort(self._raw_scores(detector, prepared)) for detector in self.detectors_
        ]
        self.decision_scores_ = self.decision_function(X)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score in [0, 1] per row (see the class docstring)."""
        X = self._check(X)
        prepared = self._prepare(X)
        total = np.zeros(len(X))
        for detector, reference in zip(self.detectors_, self.reference_scores_, strict=True):
            total += _mid_rank(reference, self._raw_scores(detector, prepared))
        return total / len(self.detectors_)

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        filled = self._impute(X)
        up = self.directions_ > 0
        down = self.directions_ < 0
        filled = np.where(up, np.maximum(filled, self.median_), filled)
        filled = np.where(down, np.minimum(filled, self.median_), filled)
        return (filled - self.median_) / self.scale_

    def _raw_scores(self, detector: object, X: np.ndarray) -> np.ndarray:
        parts = [
            detector.decision_function(X[start : start + self.chunk_size])
            for start in range(0, len(X), max(1, self.chunk_size))
        ]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _make(self, name: str, seed: int) -> object:
        # Imported lazily: PyOD pulls in much of scikit-learn and matplotlib-free
        # but slow-to-import modules; the feature code should not pay for it.
        if name == "ecod":
            from pyod.models.ecod import ECOD

            return ECOD()
        if name == "copod":
            from pyod.models.copod import COPOD

            return COPOD()
        if name == "hbos":
            from pyod.models.hbos import HBOS

            return HBOS()
        from pyod.models.iforest import IForest

        return IForest(n_estimators=self.n_estimators, random_state=seed)


class RankAggregator(_FeatureScaler):
    """Weighted average of directional per-feature ranks.

    For each feature, a row's rank is the fraction of the reference rows with a
    lower value (ties count half), taken as is for direction +1, as 1 - rank for
    -1 and as ``2 * |rank - 0.5|`` for 0. ``decision_function`` is the weighted
    mean of those ranks, in [0, 1]. Use it where the suspicious direction of each
    signal is known and the bulk of the suspicious rows is not rare enough for
    an outlier detector to isolate (e.g. one-review accounts: 40% of YelpChi).

    Parameters
    ----------
    directions : per-feature -1/0/+1 (None: all +1).
    weights : per-feature non-negative weights (None: all 1).
    max_fit_samples : reference sample size (random subsample beyond it).
    random_state : seed for that subsample.
    """

    def __init__(
        self,
        *,
        directions: Sequence[int] | None = None,
        weights: Sequence[float] | None = None,
        max_fit_samples: int = 200_000,
        random_state: int | None = None,
    ) -> None:
        self.directions = directions
        self.weights = weights
        self.max_fit_samples = max_fit_samples
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: object = None) -> RankAggregator:
        """Store each feature's sorted reference values; ``y`` is ignored."""
        X = self._check(X, reset=True)
        self._fit_location(X)
        if self.directions is None:
            self.directions_ = np.ones(X.shape[1])
        weights = np.ones(X.shape[1]) if self.weights is None else self.weights
        self.weights_ = np.asarray(weights, dtype=np.float64)
        if self.weights_.shape != (X.shape[1],) or (self.weights_ < 0).any():
            raise ValueError("weights must hold one non-negative number per feature")
        if self.weights_.sum() <= 0:
            raise ValueError("at least one weight must be positive")
        sample = self._impute(X)
        if len(sample) > self.max_fit_samples:
            rng = np.random.default_rng(self.random_state)
            sample = sample[rng.choice(len(sample), self.max_fit_samples, replace=False)]
        self.reference_ = np.sort(sample, axis=0)
        self.decision_scores_ = self.decision_function(X)
        return self

    def feature_ranks(self, X: np.ndarray) -> np.ndarray:
        """Directional rank of every feature, shape (n, d), in [0, 1]."""
        X = self._impute(self._check(X))
        ranks = (
            np.column_stack([_mid_rank(self.reference_[:, j], X[:, j]) for j in range(X.shape[1])])
            if len(X)
            else np.zeros((0, X.shape[1]))
        )
        return np.where(
            self.directions_ > 0,
            ranks,
            np.where(self.directions_ < 0, 1.0 - ranks, 2.0 * np.abs(ranks - 0.5)),
        )

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Weighted mean directional rank per row, in [0, 1]; higher is more suspicious."""
        return self.feature_ranks(X) @ self.weights_ / self.weights_.sum()


def _mid_rank(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Fraction of ``reference`` (sorted) below each value, ties counting half."""
    below = np.searchsorted(reference, values, side="left")
    not_above = np.searchsorted(reference, values, side="right")
    return (below + not_above) / (2.0 * len(reference))
