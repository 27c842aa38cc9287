"""Neighbourhood features and the classifier on them, on tiny graphs with known answers."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import NotFittedError

from ml.neighbourhood import (
    GRAPH_COLUMNS,
    SCORE_COLUMNS,
    NeighbourhoodClassifier,
    neighbourhood_features,
)
from ml.supervised import GraphLabelClassifier

# Reviewer 0 wrote two reviews (establishments 0 and 1); reviewers 1, 2, 3 one each.
REVIEWER = np.array([0, 0, 1, 2, 3])
ESTABLISHMENT = np.array([0, 1, 0, 0, 1])
SCORE = np.array([0.2, 0.6, 0.4, 0.9, 0.0])


def _column(features, name):
    return features.column(name)


def test_graph_columns_count_degrees_and_newcomers():
    F = neighbourhood_features(REVIEWER, ESTABLISHMENT, {})
    assert F.names == GRAPH_COLUMNS
    np.testing.assert_allclose(_column(F, "reviewer_degree"), [2, 2, 1, 1, 1])
    np.testing.assert_allclose(_column(F, "establishment_degree"), [3, 2, 3, 3, 2])
    # Establishment 0: two of its three reviewers are newcomers; establishment 1: one of two.
    np.testing.assert_allclose(
        _column(F, "establishment_newcomer_share"), [2 / 3, 1 / 2, 2 / 3, 2 / 3, 1 / 2]
    )
    reviewer0 = (2 / 3 + 1 / 2) / 2
    np.testing.assert_allclose(
        _column(F, "reviewer_mean_establishment_newcomer_share"),
        [reviewer0, reviewer0, 2 / 3, 2 / 3, 1 / 2],
    )


def test_review_scores_are_aggregated_over_reviewer_and_establishment():
    F = neighbourhood_features(REVIEWER, ESTABLISHMENT, {"s": SCORE})
    assert F.names == GRAPH_COLUMNS + tuple(f"s{x}" for x in SCORE_COLUMNS["review"])
    np.testing.assert_allclose(_column(F, "s_reviewer_min"), [0.2, 0.2, 0.4, 0.9, 0.0])
    np.testing.assert_allclose(_column(F, "s_reviewer_max"), [0.6, 0.6, 0.4, 0.9, 0.0])
    mean0, mean1 = 0.5, 0.3
    np.testing.assert_allclose(
        _column(F, "s_establishment_mean"), [mean0, mean1, mean0, mean0, mean1]
    )
    np.testing.assert_allclose(
        _column(F, "s_minus_establishment_mean"), SCORE - [mean0, mean1, mean0, mean0, mean1]
    )
    # Share of the establishment's other reviews below: 0.2 < 0.4 < 0.9 and 0.0 < 0.6.
    np.testing.assert_allclose(_column(F, "s_establishment_rank"), [0, 1, 0.5, 1, 0])


def test_newcomer_columns_look_at_one_review_accounts_only():
    F = neighbourhood_features(REVIEWER, ESTABLISHMENT, {"s": SCORE})
    # Newcomers of establishment 0: rows 2 and 3 (0.4, 0.9); of establishment 1: row 4 (0.0).
    np.testing.assert_allclose(
        _column(F, "s_establishment_newcomer_mean"), [0.65, 0.0, 0.65, 0.65, 0.0]
    )
    rank = _column(F, "s_newcomer_rank")
    assert np.isnan(rank[:2]).all()  # reviewer 0 is no newcomer
    np.testing.assert_allclose(rank[2:], [0.0, 1.0, 0.5])  # alone: 0.5


def test_score_kinds_choose_the_derived_columns():
    F = neighbourhood_features(
        REVIEWER,
        ESTABLISHMENT,
        {"u": SCORE, "p": ESTABLISHMENT * 1.0, "x": SCORE},
        {"u": "reviewer", "p": "establishment", "x": "plain"},
    )
    expected = (
        GRAPH_COLUMNS
        + tuple(f"u{x}" for x in SCORE_COLUMNS["reviewer"])
        + ("p", "p_reviewer_mean", "x")
    )
    assert F.names == expected
    np.testing.assert_allclose(_column(F, "p_reviewer_mean"), [0.5, 0.5, 0, 0, 1])


def test_features_do_not_depend_on_row_order_or_code_values():
    F = neighbourhood_features(REVIEWER, ESTABLISHMENT, {"s": SCORE})
    order = np.array([3, 0, 4, 2, 1])
    G = neighbourhood_features(
        REVIEWER[order] * 7 + 100, ESTABLISHMENT[order] + 5, {"s": SCORE[order]}
    )
    np.testing.assert_allclose(G.values, F.values[order])


def test_it_refuses_nan_scores_and_unknown_kinds():
    with pytest.raises(ValueError):
        neighbourhood_features(REVIEWER, ESTABLISHMENT, {"s": np.r_[SCORE[:4], np.nan]})
    with pytest.raises(ValueError):
        neighbourhood_features(REVIEWER, ESTABLISHMENT, {"s": SCORE}, {"s": "product"})


def _toy(seed=0, n=1200):
    """Spam concentrates on newcomers at three of ten establishments, with a noisy score."""
    rng = np.random.default_rng(seed)
    establishment = rng.integers(0, 10, n)
    reviewer = np.where(rng.random(n) < 0.5, np.arange(n), rng.integers(n, n + 150, n))
    newcomer = np.bincount(reviewer)[reviewer] == 1
    p = np.where(newcomer, np.where(establishment < 3, 0.6, 0.15), 0.03)
    y = (rng.random(n) < p).astype(np.int64)
    X = np.column_stack([y + rng.normal(0, 1.2, n)])
    labelled = rng.random(n) < 0.3
    return X, y, labelled, {"reviewer": reviewer, "establishment": establishment}


def test_classifier_ranks_unlabelled_rows_from_the_neighbourhood():
    X, y, labelled, graph = _toy()
    model = NeighbourhoodClassifier(min_samples_leaf=20, max_iter=50, random_state=0)
    model.fit(X, np.where(labelled, y, -1), **graph)
    own_score_only = roc_auc_score(y[~labelled], X[~labelled, 0])
    assert roc_auc_score(y[~labelled], model.transduction_[~labelled]) > own_score_only + 0.05


def test_classifier_is_deterministic_for_a_seed():
    X, y, labelled, graph = _toy()
    fit = lambda: NeighbourhoodClassifier(max_iter=20, min_samples_leaf=20, random_state=3).fit(  # noqa: E731
        X, np.where(labelled, y, -1), **graph
    )
    np.testing.assert_allclose(fit().transduction_, fit().transduction_)


def test_predict_proba_scores_the_rows_it_is_given():
    X, y, labelled, graph = _toy()
    model = NeighbourhoodClassifier(max_iter=20, min_samples_leaf=20, random_state=0)
    model.fit(X, np.where(labelled, y, -1), **graph)
    np.testing.assert_allclose(model.predict_proba(X, **graph)[:, 1], model.transduction_)
    proba = model.predict_proba(
        X[:50], reviewer=graph["reviewer"][:50], establishment=graph["establishment"][:50]
    )
    assert proba.shape == (50, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(model.predict(X, **graph))) <= {0, 1}


def test_feature_names_follow_score_names_and_kinds():
    X, y, labelled, graph = _toy(n=300)
    model = NeighbourhoodClassifier(score_names=("prior",), score_kinds=("plain",), max_iter=5)
    model.fit(X, np.where(labelled, y, -1), **graph)
    assert model.feature_names_ == (*GRAPH_COLUMNS, "prior")
    assert model.n_features_in_ == 1


def test_classifier_refuses_one_class_a_missing_graph_and_use_before_fit():
    X, y, labelled, graph = _toy(n=300)
    with pytest.raises(ValueError):
        NeighbourhoodClassifier().fit(X, np.where(labelled, 1, -1), **graph)
    with pytest.raises(ValueError):
        NeighbourhoodClassifier().fit(X, y, reviewer=None, establishment=None)
    with pytest.raises(NotFittedError):
        NeighbourhoodClassifier().predict_proba(X, **graph)


def test_compact_weight_zero_fits_one_booster_on_every_column():
    X, y, labelled, graph = _toy(n=300)
    model = NeighbourhoodClassifier(compact_weight=0.0, max_iter=5)
    model.fit(X, np.where(labelled, y, -1), **graph)
    assert len(model.models_) == 1
    np.testing.assert_array_equal(model.models_[0][0], np.arange(len(model.feature_names_)))


def test_the_compact_view_keeps_degrees_and_graph_features_columns():
    X, y, labelled, graph = _toy(n=300)
    model = NeighbourhoodClassifier(
        score_names=("s",), compact_weight=0.3, self_training=0, max_iter=5
    )
    model.fit(X, np.where(labelled, y, -1), **graph)
    columns, _, weight = model.models_[1]
    assert weight == 0.3
    assert tuple(model.feature_names_[j] for j in columns) == (
        *GRAPH_COLUMNS[:4],
        "s",
        "s_reviewer_mean",
        "s_establishment_mean",
        "s_establishment_rank",
    )


def test_it_refuses_a_compact_weight_outside_zero_one():
    X, y, labelled, graph = _toy(n=300)
    with pytest.raises(ValueError):
        NeighbourhoodClassifier(compact_weight=1.5).fit(X, np.where(labelled, y, -1), **graph)


def test_the_compact_view_model_is_self_trained_on_the_unlabelled_rows():
    X, y, labelled, graph = _toy(n=300)
    model = NeighbourhoodClassifier(max_iter=5, self_training=1, random_state=0)
    model.fit(X, np.where(labelled, y, -1), **graph)
    _, compact, weight = model.models_[1]
    assert isinstance(compact, GraphLabelClassifier)
    assert compact.self_training == 1
    assert weight == 0.5
