"""Semi-supervised review classifier: graph features plus what the labels say about the graph.

Moderators decide a small share of reviews; the labels they leave carry more
than their own rows: a place that attracted many confirmed fakes is a place
where the next one-review account is more likely fake too. This module turns
the labelled rows into per-establishment label features (smoothed spam rate,
overall and among one-review accounts, and how many labels back them),
computed out of fold for the training rows so that a row never sees its own
reviewer's labels, then fits gradient boosting on the graph features and
those label features, and optionally self-trains: every unlabelled row joins
the training set with soft pseudo-labels and the model is refitted. The ranking
(``decision_function``, ``transduction_``) averages the booster's rank with
that of extremely randomised trees fitted on the labelled rows (a smoother,
differently biased view of the same columns); ``predict_proba`` stays the
booster's probability.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted, check_random_state

__all__ = ["LABEL_FEATURES", "GraphLabelClassifier", "label_features"]

#: Names of the columns ``label_features`` appends, in order.
LABEL_FEATURES = (
    "establishment_label_rate",
    "establishment_label_rate_newcomers",
    "establishment_label_count",
    "reviewer_establishments_label_rate",
)


def _codes(values: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(values), return_inverse=True)[1].reshape(-1)


def _smoothed_rates(est: np.ndarray, weight: np.ndarray, spam: np.ndarray, smoothing: float,
                    n_est: int, *, fallback: float) -> tuple[float, np.ndarray, np.ndarray]:
    """The weighted spam rate overall (``fallback`` when nothing is weighted), and per
    establishment the labelled weight and the rate smoothed towards the overall one."""
    total = weight.sum()
    prior = float((weight * spam).sum() / total) if total > 0 else fallback
    count = np.bincount(est, weights=weight, minlength=n_est)
    positive = np.bincount(est, weights=weight * spam, minlength=n_est)
    rate = np.divide(
        positive + smoothing * prior,
        count + smoothing,
        out=np.full(n_est, prior),
        where=count + smoothing > 0,
    )
    return prior, count, rate


def label_features(
    reviewer: np.ndarray,
    establishment: np.ndarray,
    spam: np.ndarray,
    weight: np.ndarray,
    *,
    smoothing: float = 10.0,
) -> np.ndarray:
    """Per review, what the weighted labels of its establishment say.

    Parameters
    ----------
    reviewer, establishment : (n,) int codes.
    spam : (n,) float64 label or pseudo-label in [0, 1] (anything where weight is 0).
    weight : (n,) float64 weight of each row's label in the statistics (0: unlabelled).
    smoothing : pseudo-count of the global rate added to every establishment.

    Returns
    -------
    (n, 4) float64, columns ``LABEL_FEATURES``: the establishment's smoothed
    spam rate; the same among one-review accounts; the labelled weight behind
    it; the mean of the first over the reviewer's establishments.
    """
    rev, est = _codes(reviewer), _codes(establishment)
    spam = np.nan_to_num(np.asarray(spam, dtype=np.float64))
    weight = np.asarray(weight, dtype=np.float64)
    n_est = int(est.max()) + 1 if len(est) else 0
    prior, count, rate = _smoothed_rates(est, weight, spam, smoothing, n_est, fallback=0.0)
    newcomer = (np.bincount(rev)[rev] == 1).astype(np.float64)
    _, _, rate_new = _smoothed_rates(est, weight * newcomer, spam, smoothing, n_est,
                                     fallback=prior)

    per_row = rate[est]
    reviewer_mean = np.bincount(rev, weights=per_row) / np.bincount(rev)
    return np.column_stack((per_row, rate_new[est], count[est], reviewer_mean[rev]))


def _mid_rank(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Fraction of ``reference`` (sorted) below each value, ties counting half."""
    below = np.searchsorted(reference, values, side="left")
    not_above = np.searchsorted(reference, values, side="right")
    return (below + not_above) / (2.0 * len(reference))


class GraphLabelClassifier(ClassifierMixin, BaseEstimator):
    """Gradient boosting on graph features, soft self-training, optional label features,
    ranked together with extremely randomised trees.

    ``y`` follows scikit-learn's semi-supervised convention: 1 spam, 0 genuine,
    -1 unlabelled. The first model is fitted on the labelled rows; each
    self-training round refits on the labelled rows plus every unlabelled row
    twice, as spam with weight ``pseudo_weight * p`` and as genuine with weight
    ``pseudo_weight * (1 - p)``, ``p`` the previous round's probability (soft
    pseudo-labels: no threshold to tune, confident rows weigh most where they
    agree). With ``use_label_features`` the graph (``reviewer``,
    ``establishment`` codes) must be passed to ``fit`` and ``predict_proba``:
    ``label_features`` from the labelled rows (out of fold, by reviewer, for the
    labelled rows themselves) join ``X``.

    With ``forest_weight`` > 0, an ``ExtraTreesClassifier`` is also fitted on the
    labelled rows (no self-training), and the ranking score
    (``decision_function``, ``transduction_``) is ``(1 - w)`` times the
    booster's mid-rank plus ``w`` times the forest's, both ranks taken against
    the scores of the rows given to ``fit``. ``predict_proba`` and ``predict``
    stay the booster's. With ``forest_weight=0`` the ranking score is the
    booster's probability.

    Parameters
    ----------
    self_training : rounds of soft self-training (0: labelled rows only).
    pseudo_weight : weight of an unlabelled row's pair of pseudo-labels.
    use_label_features : append ``LABEL_FEATURES`` (needs the graph).
    n_folds, smoothing : folds over labelled reviewers and pseudo-count for them.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization :
        passed to ``HistGradientBoostingClassifier``.
    forest_weight : weight in [0, 1] of the forest's rank in the ranking score.
    forest_trees, forest_min_samples_leaf, forest_max_features : passed to
        ``ExtraTreesClassifier`` (``n_estimators``, ``min_samples_leaf``,
        ``max_features``).
    random_state : int, RandomState or None; folds and the boosting's and forest's seed.

    Attributes
    ----------
    model_ : the last fitted HistGradientBoostingClassifier.
    forest_ : the fitted ExtraTreesClassifier, or None when ``forest_weight`` is 0.
    classes_ : array([0, 1]).
    transduction_ : (n,) float64, ranking score (``decision_function``) of every
        row given to ``fit``; with ``forest_weight=0`` its spam probability.
    n_features_in_ : columns of ``X``.
    """

    def __init__(
        self,
        *,
        self_training: int = 2,
        pseudo_weight: float = 0.3,
        use_label_features: bool = False,
        n_folds: int = 5,
        smoothing: float = 10.0,
        max_iter: int = 300,
        learning_rate: float = 0.03,
        max_leaf_nodes: int = 7,
        min_samples_leaf: int = 100,
        l2_regularization: float = 1.0,
        forest_weight: float = 0.3,
        forest_trees: int = 300,
        forest_min_samples_leaf: int = 30,
        forest_max_features: float = 0.5,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.self_training = self_training
        self.pseudo_weight = pseudo_weight
        self.use_label_features = use_label_features
        self.n_folds = n_folds
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.forest_weight = forest_weight
        self.forest_trees = forest_trees
        self.forest_min_samples_leaf = forest_min_samples_leaf
        self.forest_max_features = forest_max_features
        self.random_state = random_state

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        reviewer: np.ndarray | None = None,
        establishment: np.ndarray | None = None,
    ) -> GraphLabelClassifier:
        """Fit on the labelled rows of ``X`` (y 0/1) and, by self-training, the
        unlabelled ones (y -1).

        Parameters
        ----------
        X : (n, d) float64 features (NaN allowed).
        y : (n,) int, 1 / 0 / -1 (unlabelled).
        reviewer, establishment : (n,) int codes; needed with ``use_label_features``.
        """
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError("X must be (n, d) and y (n,)")
        labelled = y >= 0
        if not np.isin(y[labelled], (0, 1)).all() or len(np.unique(y[labelled])) < 2:
            raise ValueError("y needs both classes 0 and 1 among its labelled rows (-1: none)")
        if not 0.0 <= self.forest_weight <= 1.0:
            raise ValueError("forest_weight must be in [0, 1]")
        rng = check_random_state(self.random_state)
        self.seed_ = int(rng.randint(np.iinfo(np.int32).max))
        if self.use_label_features:
            if reviewer is None or establishment is None:
                raise ValueError("use_label_features needs reviewer and establishment")
            X = np.column_stack((X, self._oof_label_features(X, y, reviewer, establishment, rng)))
            spam = np.where(labelled, y, 0).astype(np.float64)
            self.label_rows_ = (np.asarray(reviewer), np.asarray(establishment), spam, labelled)
        model = self._booster().fit(X[labelled], y[labelled])
        scores = model.predict_proba(X)[:, 1]
        unlabelled = np.flatnonzero(~labelled)
        for _ in range(self.self_training):
            if len(unlabelled) == 0:
                break
            Z = np.vstack((X[labelled], X[unlabelled], X[unlabelled]))
            target = np.r_[y[labelled], np.ones(len(unlabelled)), np.zeros(len(unlabelled))]
            weight = np.r_[
                np.ones(int(labelled.sum())),
                self.pseudo_weight * scores[unlabelled],
                self.pseudo_weight * (1.0 - scores[unlabelled]),
            ]
            model = self._booster().fit(Z, target.astype(np.int64), sample_weight=weight)
            scores = model.predict_proba(X)[:, 1]
        self.model_ = model
        self.forest_ = None
        if self.forest_weight > 0:
            self.forest_ = ExtraTreesClassifier(
                n_estimators=self.forest_trees,
                min_samples_leaf=self.forest_min_samples_leaf,
                max_features=self.forest_max_features,
                random_state=self.seed_,
                n_jobs=1,
            ).fit(X[labelled], y[labelled])
            self.booster_reference_ = np.sort(scores)
            self.forest_reference_ = np.sort(self.forest_.predict_proba(X)[:, 1])
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1] - (len(LABEL_FEATURES) if self.use_label_features else 0)
        self.transduction_ = self._ranking(X, scores)
        return self

    def _ranking(self, X: np.ndarray, booster: np.ndarray) -> np.ndarray:
        """The ranking score of rows ``X`` (label features included) whose booster
        probability is ``booster``."""
        if self.forest_ is None:
            return booster
        forest = self.forest_.predict_proba(X)[:, 1]
        w = self.forest_weight
        return (1.0 - w) * _mid_rank(self.booster_reference_, booster) + w * _mid_rank(
            self.forest_reference_, forest
        )

    def _booster(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            random_state=self.seed_,
        )

    def _oof_label_features(self, X, y, reviewer, establishment, rng) -> np.ndarray:
        """Label features of every row; a labelled row's come from the other folds
        of labelled reviewers, as an unlabelled row's come from all of them."""
        labelled = y >= 0
        spam = np.where(labelled, y, 0).astype(np.float64)
        rev = _codes(reviewer)
        fold = rng.permutation(int(rev.max()) + 1)[rev] % self.n_folds
        out = label_features(
            reviewer, establishment, spam, labelled.astype(np.float64), smoothing=self.smoothing
        )
        for k in range(self.n_folds):
            rows = labelled & (fold == k)
            weight = (labelled & (fold != k)).astype(np.float64)
            out[rows] = label_features(
                reviewer, establishment, spam, weight, smoothing=self.smoothing
            )[rows]
        return out

    def predict_proba(
        self,
        X: np.ndarray,
        *,
        reviewer: np.ndarray | None = None,
        establishment: np.ndarray | None = None,
    ) -> np.ndarray:
        """The booster's probabilities of genuine and spam per row, shape (n, 2). With
        ``use_label_features``, ``X`` must be the rows given to ``fit`` (the label
        features are transductive: use ``transduction_``)."""
        check_is_fitted(self, "model_")
        X = self._with_label_features(X, reviewer, establishment)
        return self.model_.predict_proba(X)

    def decision_function(
        self,
        X: np.ndarray,
        *,
        reviewer: np.ndarray | None = None,
        establishment: np.ndarray | None = None,
    ) -> np.ndarray:
        """Ranking score per row (higher: more likely spam), shape (n,): the blend of
        the booster's and the forest's ranks (see the class), or with
        ``forest_weight=0`` the booster's spam probability."""
        check_is_fitted(self, "model_")
        X = self._with_label_features(X, reviewer, establishment)
        return self._ranking(X, self.model_.predict_proba(X)[:, 1])

    def _with_label_features(self, X, reviewer, establishment) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if self.use_label_features:
            reviewer0, establishment0, spam, labelled = self.label_rows_
            if (
                reviewer is None
                or establishment is None
                or len(X) != len(reviewer0)
                or not np.array_equal(reviewer, reviewer0)
                or not np.array_equal(establishment, establishment0)
            ):
                raise ValueError("with use_label_features, score the rows given to fit")
            L = label_features(
                reviewer0,
                establishment0,
                spam,
                labelled.astype(np.float64),
                smoothing=self.smoothing,
            )
            X = np.column_stack((X, L))
        return X

    def predict(self, X: np.ndarray, **graph: np.ndarray) -> np.ndarray:
        """1 where the spam probability is at least 0.5, else 0."""
        return (self.predict_proba(X, **graph)[:, 1] >= 0.5).astype(np.int64)
