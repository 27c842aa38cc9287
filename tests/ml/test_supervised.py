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
