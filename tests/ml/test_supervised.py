"""Semi-supervised classifier and label features on tiny graphs with known answers."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import NotFittedError

from ml.supervised import LABEL_FEATURES, GraphLabelClassifier, label_features


def test_label_features_are_smoothed_establishment_rates_by_construction():
    # Establishment 0: two labelled reviews, one spam; establishment 1: one genuine.
    reviewer = np.array([0, 1, 2, 3])
    establishment = np.array([0, 0, 1, 1])
    spam = np.array([1.0, 0.0, 0.0, 0.0])
    weight = np.array([1.0, 1.0, 1.0, 0.0])  # row 3 unlabelled
    L = label_features(reviewer, establishment, spam, weight, smoothing=1.0)
    prior = 1 / 3
    rate0 = (1 + prior) / (2 + 1)
    rate1 = (0 + prior) / (1 + 1)
    assert L.shape == (4, len(LABEL_FEATURES))
    np.testing.assert_allclose(L[:, 0], [rate0, rate0, rate1, rate1])
    np.testing.assert_allclose(L[:, 2], [2, 2, 1, 1])
    # Every reviewer has one review here: the newcomer rate is the same rate.
    np.testing.assert_allclose(L[:, 1], L[:, 0])


def test_reviewer_mean_averages_the_rates_of_the_reviewers_establishments():
    reviewer = np.array([0, 0, 1])
    establishment = np.array([0, 1, 1])
    L = label_features(reviewer, establishment, np.array([1.0, 0, 0]), np.ones(3), smoothing=0.0)
    np.testing.assert_allclose(L[:, 0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(L[:, 3], [0.5, 0.5, 0.0])


def _toy(seed=0, n=800):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int64)
    X = np.column_stack([2.0 * y + rng.normal(0, 1.0, n), rng.normal(0, 1, n)])
    labelled = rng.random(n) < 0.2
    return X, y, labelled


def test_self_training_ranks_the_unlabelled_rows_and_is_deterministic():
    X, y, labelled = _toy()
    y_semi = np.where(labelled, y, -1)
    a = GraphLabelClassifier(random_state=3, max_iter=20, min_samples_leaf=20).fit(X, y_semi)
    b = GraphLabelClassifier(random_state=3, max_iter=20, min_samples_leaf=20).fit(X, y_semi)
    np.testing.assert_allclose(a.transduction_, b.transduction_)
    assert roc_auc_score(y[~labelled], a.transduction_[~labelled]) > 0.7
    proba = a.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(a.predict(X))) <= {0, 1}


def test_label_features_need_the_graph_and_the_fit_rows():
    X, y, labelled = _toy(n=400)
    graph = {"reviewer": np.arange(400), "establishment": np.arange(400) % 7}
    model = GraphLabelClassifier(use_label_features=True, self_training=0, max_iter=20)
    with pytest.raises(ValueError):
        model.fit(X, np.where(labelled, y, -1))
    model.fit(X, np.where(labelled, y, -1), **graph)
    assert model.predict_proba(X, **graph).shape == (400, 2)
    with pytest.raises(ValueError):
        model.predict_proba(X[:10], reviewer=graph["reviewer"][:10],
                            establishment=graph["establishment"][:10])


def test_it_refuses_one_class_and_use_before_fit():
    with pytest.raises(ValueError):
        GraphLabelClassifier().fit(np.zeros((3, 1)), np.array([1, 1, -1]))
    with pytest.raises(NotFittedError):
        GraphLabelClassifier().predict_proba(np.zeros((3, 1)))


def test_without_the_forest_the_ranking_is_the_boosters_probability():
    X, y, labelled = _toy()
    model = GraphLabelClassifier(random_state=1, max_iter=20, forest_weight=0.0)
    model.fit(X, np.where(labelled, y, -1))
    assert model.forest_ is None
    np.testing.assert_allclose(model.transduction_, model.predict_proba(X)[:, 1])
    np.testing.assert_allclose(model.decision_function(X), model.transduction_)


def test_the_forest_blend_is_a_weighted_mean_of_two_ranks():
    X, y, labelled = _toy(seed=2)
    y_semi = np.where(labelled, y, -1)
    model = GraphLabelClassifier(random_state=1, max_iter=20, forest_trees=20,
                                 forest_min_samples_leaf=5).fit(X, y_semi)
    assert model.forest_ is not None
    score = model.transduction_
    # Ranks against the fit rows: in (0, 1), and scoring the fit rows again gives them back.
    assert score.min() > 0 and score.max() < 1
    np.testing.assert_allclose(model.decision_function(X), score)
    booster = model.predict_proba(X)[:, 1]
    forest = model.forest_.predict_proba(X)[:, 1]

    def mid_rank(values):
        return np.array([(np.sum(values < v) + np.sum(values <= v)) / (2 * len(values))
                         for v in values])

    np.testing.assert_allclose(score, 0.7 * mid_rank(booster) + 0.3 * mid_rank(forest))
    assert roc_auc_score(y[~labelled], score[~labelled]) > 0.7
    # predict stays the booster's probability at 0.5.
    np.testing.assert_array_equal(model.predict(X), (booster >= 0.5).astype(np.int64))
    # New rows are ranked against the fit rows, one at a time as in a batch.
    np.testing.assert_allclose(model.decision_function(X[:5]), score[:5])


def test_forest_weight_outside_0_1_is_refused():
    X, y, labelled = _toy(n=200)
    with pytest.raises(ValueError):
        GraphLabelClassifier(forest_weight=1.5).fit(X, np.where(labelled, y, -1))
