"""Review classifier on the neighbourhood of each review in the reviewer x establishment graph.

A review's own scores (priors, an unsupervised rank) separate spam weakly; where
it sits separates it better: how its scores compare with the other reviews of
its establishment (the mean, the spread, its rank, among one-review accounts
too), what the reviewer's other reviews and establishments look like (lowest
and highest score, the establishments' newcomer share). ``neighbourhood_features``
computes these columns from whole arrays, and ``NeighbourhoodClassifier`` fits
gradient boosting on them with the few labelled rows, the unlabelled rows
still shaping every neighbourhood statistic, averaged with a self-trained
model on a compact view of the same columns.

On YelpChi with 10% of reviewers labelled it ranks about as well as
``ml.supervised.GraphLabelClassifier`` alone (0.788 review ROC-AUC on the
held-out 90%): these inputs seem to carry no more at that label budget; see
bench/RESULTS.md, "Learning (issue 13)".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted, check_random_state

from ml.features import FeatureMatrix, _group_codes, _rank_within
from ml.supervised import GraphLabelClassifier

__all__ = ["NeighbourhoodClassifier", "neighbourhood_features"]

#: Columns that depend on the graph only, in order.
GRAPH_COLUMNS = (
    "reviewer_degree",
    "establishment_degree",
    "establishment_newcomer_share",
    "establishment_mean_log_reviewer_degree",
    "reviewer_mean_establishment_newcomer_share",
    "reviewer_mean_log_establishment_degree",
    "reviewer_mean_establishment_mean_log_reviewer_degree",
)

#: Kinds of per-review score ``neighbourhood_features`` takes, and the suffixes
#: of the columns it derives from a score ``s`` of each kind (``s`` itself first).
#: A reviewer-level score (one value per reviewer, repeated on each of its
#: reviews) has no reviewer aggregates, they would repeat it; an
#: establishment-level one has only its mean over the reviewer's establishments.
SCORE_COLUMNS = {
    "review": (
        "",
        "_reviewer_mean",
        "_reviewer_min",
        "_reviewer_max",
        "_establishment_mean",
        "_establishment_std",
        "_establishment_rank",
        "_minus_establishment_mean",
        "_establishment_newcomer_mean",
        "_newcomer_rank",
        "_reviewer_mean_establishment_rank",
        "_reviewer_mean_establishment_mean",
    ),
    "reviewer": (
        "",
        "_establishment_mean",
        "_establishment_std",
        "_establishment_rank",
        "_minus_establishment_mean",
        "_establishment_newcomer_mean",
        "_newcomer_rank",
        "_reviewer_mean_establishment_rank",
        "_reviewer_mean_establishment_mean",
    ),
    "establishment": ("", "_reviewer_mean"),
    "plain": ("",),
}


#: The columns of the compact view (``compact_weight``): the degrees, and per
#: score the columns ``ml.features.graph_features`` has, where its kind has them.
COMPACT_COLUMNS = GRAPH_COLUMNS[:4]
COMPACT_SUFFIXES = ("", "_reviewer_mean", "_establishment_mean", "_establishment_rank")


def _mean(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per group (indexed by group), the mean of ``values``; NaN for an empty group."""
    count = np.bincount(group, minlength=int(group.max()) + 1)
    total = np.bincount(group, weights=values, minlength=len(count))
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def _extreme(values: np.ndarray, group: np.ndarray, ufunc: np.ufunc, start: float) -> np.ndarray:
    out = np.full(int(group.max()) + 1, start)
    ufunc.at(out, group, values)
    return out


def neighbourhood_features(
    reviewer: np.ndarray,
    establishment: np.ndarray,
    scores: Mapping[str, np.ndarray],
    kinds: Mapping[str, str] | None = None,
) -> FeatureMatrix:
    """Features of each review from its neighbourhood in the reviewer x establishment graph.

    Parameters
    ----------
    reviewer, establishment : (n,) int codes of each review's reviewer and
        establishment (-1 unknown: its own node).
    scores : name -> (n,) float64 per-review score, no NaN. Its direction does
        not matter to a tree model.
    kinds : name -> one of ``SCORE_COLUMNS``' keys: ``review`` (default),
        ``reviewer`` (one value per reviewer), ``establishment`` (one value per
        establishment) or ``plain`` (kept as it is, nothing derived).

    Returns
    -------
    FeatureMatrix, (n, 7 + columns per score) float64. First ``GRAPH_COLUMNS``:
    the reviewer's and the establishment's degree; the establishment's share of
    one-review accounts ("newcomers") and mean log reviewer degree; the mean over
    the reviewer's reviews of the establishment's newcomer share, log degree
    and mean log reviewer degree. Then per score ``s`` the suffixes of its kind
    in ``SCORE_COLUMNS``: ``s``; its mean, min and max over the reviewer's
    reviews; mean and standard deviation over the establishment's reviews; the
    review's rank among them (the share of the others below it, ties counting
    half, 0.5 when alone); ``s`` minus the
    establishment's mean; the mean over the establishment's newcomers (the
    global newcomers' mean where it has none); the rank among the
    establishment's newcomers (NaN for a reviewer with several reviews); the
    mean over the reviewer's reviews of the establishment rank and of the
    establishment mean.

    Every column depends only on the graph and the scores, never on row order
    or on the values of the codes.
    """
    kinds = dict(kinds or {})
    unknown = set(kinds) - set(scores) or {k for k in kinds.values() if k not in SCORE_COLUMNS}
    if unknown:
        raise ValueError(f"unknown score names or kinds: {sorted(unknown)}")
    suffixes = {name: SCORE_COLUMNS[kinds.get(name, "review")] for name in scores}
    names = list(GRAPH_COLUMNS) + [f"{s}{x}" for s in scores for x in suffixes[s]]
    rev = _group_codes(reviewer)
    est = _group_codes(establishment)
    if len(est) != len(rev):
        raise ValueError("reviewer and establishment must have the same length")
    if len(rev) == 0:
        return FeatureMatrix(tuple(names), np.empty((0, len(names))))
    rev_degree = np.bincount(rev).astype(np.float64)[rev]
    est_degree = np.bincount(est).astype(np.float64)[est]
    newcomer = rev_degree == 1
    newcomer_share = _mean(newcomer.astype(np.float64), est)
    est_log_degree = _mean(np.log(rev_degree), est)[est]
    columns = [
        rev_degree,
        est_degree,
        newcomer_share[est],
        est_log_degree,
        _mean(newcomer_share[est], rev)[rev],
        _mean(np.log(est_degree), rev)[rev],
        _mean(est_log_degree, rev)[rev],
    ]
    # Newcomers keep their establishment as group, everyone else goes to one
    # extra group: one ranking pass ranks newcomers among themselves.
    newcomer_group = np.where(newcomer, est, int(est.max()) + 1)
    for name, values in scores.items():
        s = np.asarray(values, dtype=np.float64)
        if s.shape != rev.shape:
            raise ValueError(f"score {name!r} has shape {s.shape}, expected {rev.shape}")
        if np.isnan(s).any():
            raise ValueError(f"score {name!r} has NaN")
        derived = _derived(s, rev, est, newcomer, newcomer_share, newcomer_group)
        columns += [derived[suffix]() for suffix in suffixes[name]]
    return FeatureMatrix(tuple(names), np.column_stack(columns))


def _derived(s, rev, est, newcomer, newcomer_share, newcomer_group) -> dict:
    """Suffix -> a function computing that column of score ``s`` (lazily: each
    kind takes only some of them)."""
    est_mean = _mean(s, est)[est]
    est_rank = _rank_within(s, est)

    def newcomer_mean():
        total = np.bincount(est, weights=np.where(newcomer, s, 0.0))
        count = newcomer_share * np.bincount(est)
        fallback = s[newcomer].mean() if newcomer.any() else s.mean()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, fallback)[est]

    return {
        "": lambda: s,
        "_reviewer_mean": lambda: _mean(s, rev)[rev],
        "_reviewer_min": lambda: _extreme(s, rev, np.minimum, np.inf)[rev],
        "_reviewer_max": lambda: _extreme(s, rev, np.maximum, -np.inf)[rev],
        "_establishment_mean": lambda: est_mean,
        "_establishment_std": lambda: np.sqrt(
            np.maximum(_mean(s * s, est)[est] - est_mean**2, 0.0)
        ),
        "_establishment_rank": lambda: est_rank,
        "_minus_establishment_mean": lambda: s - est_mean,
        "_establishment_newcomer_mean": newcomer_mean,
        "_newcomer_rank": lambda: np.where(newcomer, _rank_within(s, newcomer_group), np.nan),
        "_reviewer_mean_establishment_rank": lambda: _mean(est_rank, rev)[rev],
        "_reviewer_mean_establishment_mean": lambda: _mean(est_mean, rev)[rev],
    }


class NeighbourhoodClassifier(ClassifierMixin, BaseEstimator):
    """Gradient boosting on ``neighbourhood_features`` of per-review scores.

    ``X`` holds per-review scores (priors, an unsupervised rank...), one column
    each; ``fit`` and ``predict_proba`` expand them with the graph given beside
    them (``reviewer``, ``establishment`` codes), over all the rows they are
    given: pass the reviews to score with the history of their reviewers and
    establishments. ``y`` follows scikit-learn's semi-supervised convention:
    1 spam, 0 genuine, -1 unlabelled. Unlabelled rows shape the neighbourhood
    features; the boosting on every column is fitted on the labelled rows only
    (self-training it, or adding label features, did not help on YelpChi).

    With a few thousand labels, one booster on every column and a second model
    on a compact view (the degrees and each score's own value, reviewer mean,
    establishment mean and rank: ``COMPACT_COLUMNS``, ``COMPACT_SUFFIXES``)
    rank better averaged than either alone. The second is
    ``ml.supervised.GraphLabelClassifier`` with its own boosting defaults and
    ``self_training`` rounds of soft self-training over the unlabelled rows
    (which helps on the compact view and not on every column);
    ``compact_weight`` is its weight in the averaged probability (0: one booster).

    Parameters
    ----------
    score_names : names of ``X``'s columns (default ``x0``, ``x1``...), used
        for ``feature_names_``.
    score_kinds : kind of each of ``X``'s columns, a key of ``SCORE_COLUMNS``
        (``review``, ``reviewer``, ``establishment``, ``plain``); default all
        ``review``.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization :
        passed to ``HistGradientBoostingClassifier``; the defaults are small,
        regularised trees for a few thousand labelled rows.
    compact_weight : weight in [0, 1] of the compact view's model.
    self_training, pseudo_weight : soft self-training of the compact view's
        model (see ``GraphLabelClassifier``).
    random_state : int, RandomState or None; the boosters' seeds.

    Attributes
    ----------
    models_ : list of (column indices into ``feature_names_``, fitted model,
        weight): the HistGradientBoostingClassifier on every column, then (when
        ``compact_weight`` > 0) the GraphLabelClassifier on the compact view.
    classes_ : array([0, 1]).
    feature_names_ : tuple of the expanded feature names the model sees.
    transduction_ : (n,) float64, spam probability of every row given to ``fit``.
    n_features_in_ : columns of ``X``.
    """

    def __init__(
        self,
        *,
        score_names: Sequence[str] | None = None,
        score_kinds: Sequence[str] | None = None,
        max_iter: int = 150,
        learning_rate: float = 0.03,
        max_leaf_nodes: int = 7,
        min_samples_leaf: int = 100,
        l2_regularization: float = 1.0,
        compact_weight: float = 0.5,
        self_training: int = 2,
        pseudo_weight: float = 0.3,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.score_names = score_names
        self.score_kinds = score_kinds
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.compact_weight = compact_weight
        self.self_training = self_training
        self.pseudo_weight = pseudo_weight
        self.random_state = random_state

    def _expand(self, X: np.ndarray, reviewer, establishment) -> FeatureMatrix:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError("X must be (n, d)")
        if reviewer is None or establishment is None:
            raise ValueError("reviewer and establishment codes are needed")
        if not (len(reviewer) == len(establishment) == len(X)):
            raise ValueError("X, reviewer and establishment must have the same rows")
        names = self._names(X)
        kinds = list(self.score_kinds or ["review"] * X.shape[1])
        if not (len(names) == len(kinds) == X.shape[1]):
            raise ValueError(
                f"score_names and score_kinds need {X.shape[1]} entries, one per column"
            )
        return neighbourhood_features(
            reviewer,
            establishment,
            {name: X[:, j] for j, name in enumerate(names)},
            dict(zip(names, kinds, strict=True)),
        )

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        reviewer: np.ndarray,
        establishment: np.ndarray,
    ) -> NeighbourhoodClassifier:
        """Fit on the labelled rows (y 0/1); every row (y -1 too) shapes the features.

        Parameters
        ----------
        X : (n, d) float64 per-review scores, no NaN.
        y : (n,) int, 1 spam / 0 genuine / -1 unlabelled.
        reviewer, establishment : (n,) int codes.

        Returns
        -------
        self
        """
        y = np.asarray(y)
        features = self._expand(X, reviewer, establishment)
        if len(y) != len(features):
            raise ValueError("X and y must have the same rows")
        labelled = y >= 0
        if not np.isin(y[labelled], (0, 1)).all() or len(np.unique(y[labelled])) < 2:
            raise ValueError("y needs both classes 0 and 1 among its labelled rows (-1: none)")
        if not 0.0 <= self.compact_weight <= 1.0:
            raise ValueError("compact_weight must be in [0, 1]")
        rng = check_random_state(self.random_state)
        names = features.names
        compact = set(COMPACT_COLUMNS) | {
            f"{s}{x}" for s in self._names(X) for x in COMPACT_SUFFIXES
        }
        every = np.arange(len(names))
        full = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            # Early stopping would hold out rows at random, splitting a
            # reviewer's reviews across training and validation.
            early_stopping=False,
            random_state=int(rng.randint(np.iinfo(np.int32).max)),
        ).fit(features.values[labelled], y[labelled].astype(np.int64))
        self.models_ = [(every, full, 1.0 - self.compact_weight)]
        if self.compact_weight > 0:
            columns = np.flatnonzero([name in compact for name in names])
            model = GraphLabelClassifier(
                self_training=self.self_training,
                pseudo_weight=self.pseudo_weight,
                random_state=int(rng.randint(np.iinfo(np.int32).max)),
            ).fit(features.values[:, columns], y)
            self.models_.append((columns, model, self.compact_weight))
        self.classes_ = np.array([0, 1])
        self.feature_names_ = names
        self.n_features_in_ = np.asarray(X).shape[1]
        self.transduction_ = self._proba(features.values)
        return self

    def _names(self, X: np.ndarray) -> list[str]:
        return list(self.score_names or (f"x{j}" for j in range(np.asarray(X).shape[1])))

    def _proba(self, values: np.ndarray) -> np.ndarray:
        return sum(w * m.predict_proba(values[:, c])[:, 1] for c, m, w in self.models_)

    def predict_proba(
        self,
        X: np.ndarray,
        *,
        reviewer: np.ndarray,
        establishment: np.ndarray,
    ) -> np.ndarray:
        """Probabilities of genuine and spam per row, shape (n, 2); the
        neighbourhood features are computed over the rows given here."""
        check_is_fitted(self, "models_")
        features = self._expand(X, reviewer, establishment)
        if features.names != self.feature_names_:
            raise ValueError(
                f"X has {np.asarray(X).shape[1]} columns, fit had {self.n_features_in_}"
            )
        spam = self._proba(features.values)
        return np.column_stack((1.0 - spam, spam))

    def decision_function(
        self,
        X: np.ndarray,
        *,
        reviewer: np.ndarray,
        establishment: np.ndarray,
    ) -> np.ndarray:
        """Spam probability per row, shape (n,): higher is more suspicious."""
        return self.predict_proba(X, reviewer=reviewer, establishment=establishment)[:, 1]

    def predict(
        self,
        X: np.ndarray,
        *,
        reviewer: np.ndarray,
        establishment: np.ndarray,
    ) -> np.ndarray:
        """1 where the spam probability is at least 0.5, else 0."""
        proba = self.predict_proba(X, reviewer=reviewer, establishment=establishment)
        return (proba[:, 1] >= 0.5).astype(np.int64)
