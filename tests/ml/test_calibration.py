"""Calibration of fusion weights and hold thresholds on small, known cases."""

import numpy as np
import pytest

from ml.calibration import (
    CalibrationModel,
    component_matrix,
    current_fusion_weights,
    fit_calibration,
    precision_at_recall,
    threshold_for_precision,
)


def test_precision_at_recall_by_construction():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    assert precision_at_recall(y, s, 0.5) == 1.0
    np.testing.assert_allclose(precision_at_recall(y, s, 1.0), 2 / 3)


def test_threshold_is_the_lowest_reaching_the_target_precision():
    y = np.array([1, 1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    assert threshold_for_precision(y, s, 0.75, min_holds=1) == 0.6
    assert threshold_for_precision(y, s, 1.0, min_holds=1) == 0.8
    assert threshold_for_precision(y, s, 1.0, min_holds=3) == float("inf")


def test_component_matrix_reads_stored_reasons():
    reasons = [
        [{"code": "a", "score": 0.5}, {"code": "zz", "score": 1}],
        [],
        [{"code": "b", "score": 2}],
    ]
    np.testing.assert_allclose(component_matrix(reasons, ["a", "b"]), [[0.5, 0], [0, 0], [0, 1]])


def test_current_fusion_weights_cover_the_fused_components():
    weights, bias = current_fusion_weights()
    assert weights["extortion_report"] > 0 and weights["new_account"] > 0 and bias < 0


def _decisions(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    # Moderators confirm on component a, ignore b, and c counts against.
    logit = -5.0 + 10.0 * X[:, 0] - 2.0 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    partner = np.where(rng.random(n) < 0.9, "big", "small")[:n]
    partner[:20] = "tiny"
    return X, y, partner


def test_refit_learns_which_component_moderators_follow_and_stays_non_negative():
    X, y, partner = _decisions()
    model = fit_calibration(
        X,
        y,
        partner,
        components=["a", "b", "c"],
        current_weights={"a": 1.0, "b": 1.0, "c": 1.0},
        current_bias=-1.5,
        alpha=0.0,
        min_partner_decisions=100,
    )
    w = model.weights
    assert w["a"] > 4.0 and w["b"] < 0.5 and w["c"] == 0.0
    assert model.heldout["ap"] > model.baseline["ap"]
    assert model.not_worse_than()
    assert "big" in model.partner_thresholds and "tiny" not in model.partner_thresholds
    held = model.hold(X, partner)
    assert held.dtype == bool and y[held].mean() > 0.8


def test_same_inputs_and_seed_give_the_same_model():
    X, y, partner = _decisions(1, 800)
    kw = dict(
        components=["a", "b", "c"],
        current_weights={"a": 1, "b": 1, "c": 1},
        current_bias=-1.5,
        random_state=4,
    )
    a, b = fit_calibration(X, y, partner, **kw), fit_calibration(X, y, partner, **kw)
    assert a == b and a.version == b.version


def test_model_survives_json():
    X, y, partner = _decisions(2, 600)
    model = fit_calibration(
        X,
        y,
        partner,
        components=["a", "b", "c"],
        current_weights={"a": 1},
        current_bias=-1.0,
        target_precision=1.01,
    )
    assert model.global_threshold == float("inf")  # unreachable precision: never hold
    again = CalibrationModel.from_json(model.to_json())
    assert again == model
    np.testing.assert_allclose(again.probability(X), model.probability(X))


def test_a_model_worse_on_new_rows_is_not_switched_to():
    X, y, partner = _decisions(3, 1500)
    good = fit_calibration(
        X,
        y,
        partner,
        components=["a", "b", "c"],
        current_weights={"a": 1, "b": 1, "c": 1},
        current_bias=-1.5,
    )
    bad = CalibrationModel(**{**good.__dict__, "weights": {"a": 0.0, "b": 3.0, "c": 3.0}})
    assert good.not_worse_than(bad, X=X, y=y)
    assert not bad.not_worse_than(good, X=X, y=y)
    with pytest.raises(ValueError):
        good.not_worse_than(X=X, y=y)


def test_population_weights_keep_a_threshold_from_looking_precise_on_a_biased_sample():
    # The dismissed row at 0.5 stands for ten undecided reviews like it.
    y, s = np.array([1, 0, 0]), np.array([0.9, 0.5, 0.4])
    assert threshold_for_precision(y, s, 0.4, min_holds=1) == 0.5
    assert threshold_for_precision(y, s, 0.4, min_holds=1, sample_weight=[1, 10, 1]) == 0.9


def test_too_few_heldout_decisions_never_switch():
    X, y, partner = _decisions(4, 200)
    model = fit_calibration(
        X,
        y,
        partner,
        components=["a", "b", "c"],
        current_weights={"a": 1, "b": 1, "c": 1},
        current_bias=-1.5,
    )
    assert model.heldout["n"] < 100 and not model.not_worse_than()
