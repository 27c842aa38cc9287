"""Anomaly ensemble and rank aggregation on small arrays with planted answers."""

import numpy as np
import pytest

from ml.anomaly import AnomalyEnsemble, RankAggregator


def normal_rows(n=300, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def test_fit_returns_self_and_keeps_parameters_unchanged():
    detectors = ("ecod", "hbos")
    model = AnomalyEnsemble(detectors, max_fit_samples=123, random_state=5)
    assert model.fit(normal_rows()) is model
    assert model.detectors is detectors
    assert (model.max_fit_samples, model.random_state) == (123, 5)
    assert model.decision_scores_.shape == (300,)


def test_planted_outlier_ranks_first():
    X = np.vstack([normal_rows(), [[7.0, 7.0, 7.0]]])
    model = AnomalyEnsemble(random_state=0).fit(X)
    assert np.argmax(model.decision_scores_) == len(X) - 1
    assert model.decision_scores_.min() >= 0.0 and model.decision_scores_.max() <= 1.0


def test_new_rows_are_scored_against_the_fitted_reference():
    model = AnomalyEnsemble(("ecod", "iforest"), random_state=0).fit(normal_rows())
    scores = model.decision_function(np.array([[0.0, 0.0, 0.0], [6.0, -6.0, 6.0]]))
    assert scores[1] > 0.95 > 0.6 > scores[0]


def test_direction_plus_one_ignores_the_low_tail():
    X = np.vstack([normal_rows(d=2), [[-8.0, 0.0], [8.0, 0.0]]])
    scores = AnomalyEnsemble(directions=(1, 1), random_state=0).fit(X).decision_scores_
    assert scores[-1] > np.quantile(scores, 0.95)
    assert scores[-2] < np.quantile(scores, 0.9)


def test_subsampled_fit_uses_at_most_max_fit_samples_as_reference():
    model = AnomalyEnsemble(("hbos",), max_fit_samples=50, random_state=1).fit(normal_rows(500))
    assert len(model.reference_scores_[0]) == 50
    assert model.decision_scores_.shape == (500,)


def test_same_random_state_gives_the_same_scores():
    X = normal_rows(400)
    a = AnomalyEnsemble(max_fit_samples=200, random_state=3).fit(X).decision_scores_
    b = AnomalyEnsemble(max_fit_samples=200, random_state=3).fit(X).decision_scores_
    np.testing.assert_array_equal(a, b)


def test_missing_values_are_imputed_with_the_median():
    X = normal_rows()
    X[::7, 1] = np.nan
    scores = AnomalyEnsemble(("ecod", "hbos"), random_state=0).fit(X).decision_scores_
    assert np.isfinite(scores).all()


def test_reasons_name_the_feature_that_pushed_the_row_up():
    X = np.vstack([normal_rows(), [[0.0, 9.0, 0.0]]])
    model = AnomalyEnsemble(("hbos",), random_state=0).fit(X)
    reasons = model.reasons(X[-2:], feature_names=["a", "b", "c"])
    assert [name for name, _ in reasons[1]] == ["b"]
    assert reasons[1][0][1] > 5
    assert all(z >= 2.0 for _, z in reasons[0])


def test_unknown_detector_is_rejected():
    with pytest.raises(ValueError):
        AnomalyEnsemble(("lof",)).fit(normal_rows())


def test_rank_aggregator_follows_directions_and_weights():
    X = np.array([[1.0, 10.0], [2.0, 5.0], [3.0, 0.0]])
    both = RankAggregator(directions=(1, -1)).fit(X).decision_scores_
    assert list(np.argsort(both)) == [0, 1, 2]
    only_first = RankAggregator(directions=(1, 1), weights=(1.0, 0.0)).fit(X).decision_scores_
    np.testing.assert_allclose(only_first, [1 / 6, 3 / 6, 5 / 6])


def test_rank_aggregator_gives_ties_the_same_score_whatever_the_row_order():
    X = np.array([[1.0], [1.0], [1.0], [2.0]])
    scores = RankAggregator().fit(X).decision_scores_
    assert scores[0] == scores[1] == scores[2] < scores[3]
    shuffled = RankAggregator().fit(X[::-1]).decision_scores_
    np.testing.assert_array_equal(shuffled[::-1], scores)
