"""Calibration of fusion weights and hold thresholds on small, known cases."""

import json

import numpy as np
import pytest

from ml.calibration import (
    CalibrationModel,
    PrecisionCurve,
    component_matrix,
    current_fusion_weights,
    fit_calibration,
    precision_at_recall,
    same_share_threshold,
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
        current_threshold=float("inf"),
    )
    # Unreachable precision and no threshold in use: never hold.
    assert model.global_threshold == float("inf")
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


# Thresholds chosen on a lower confidence bound of precision (issue 13).


def _ranked(n_top, rate, n_below, seed=0):
    """Decisions ranked by score: the top ``n_top`` confirmed at ``rate`` (spread
    evenly), then ``n_below`` dismissed ones."""
    rng = np.random.default_rng(seed)
    top = (np.arange(n_top) * rate) % 1 + rate > 1 - 1e-9
    y = np.r_[top, np.zeros(n_below, dtype=bool)].astype(int)
    score = np.sort(rng.random(len(y)))[::-1]
    return y, score


def test_the_bound_makes_a_threshold_on_few_decisions_more_conservative():
    # 60% confirmed above the cut either way; 20 decisions or 2,000.
    few_y, few_s = _ranked(10, 0.6, 10)
    many_y, many_s = _ranked(1000, 0.6, 1000)
    assert few_y[:10].mean() == many_y[:1000].mean() == 0.6
    few = threshold_for_precision(few_y, few_s, 0.4, min_holds=1, confidence=0.9)
    many = threshold_for_precision(many_y, many_s, 0.4, min_holds=1, confidence=0.9)
    # Share of the decisions held: the small sample holds less of itself.
    assert (few_s >= few).mean() < (many_s >= many).mean()
    # Without the bound both hold down to the same share.
    point_few = threshold_for_precision(few_y, few_s, 0.4, min_holds=1)
    assert (few_s >= point_few).mean() > (few_s >= few).mean()


def test_lower_bound_is_below_the_estimate_and_tightens_with_more_decisions():
    small = PrecisionCurve.of(np.array([1, 0] * 10), np.linspace(1, 0, 20))
    large = PrecisionCurve.of(np.array([1, 0] * 1000), np.linspace(1, 0, 2000))
    assert small.lower_bound(0.9)[-1] < large.lower_bound(0.9)[-1] < 0.5
    np.testing.assert_allclose(large.precision[-1], 0.5)


def test_no_supported_threshold_gives_inf():
    y, s = np.array([1, 0, 1, 0, 0]), np.linspace(1, 0, 5)
    assert threshold_for_precision(y, s, 0.4, min_holds=1) < float("inf")  # estimate: 0.5
    assert threshold_for_precision(y, s, 0.4, min_holds=1, confidence=0.9) == float("inf")


def test_a_region_no_heavy_decision_landed_in_is_not_taken_as_empty():
    # Ten confirmed decisions of weight 1 at the top; below, audits standing for
    # 1,000 reviews each. Those audits could have missed dismissed reviews at the
    # top: unit weights support the top ten, the heavy audits below do not.
    y = np.r_[np.ones(10), np.zeros(4)].astype(int)
    s = np.linspace(1, 0, 14)
    light = np.ones(14)
    heavy = np.r_[np.ones(10), np.full(4, 1000.0)]
    assert np.isfinite(threshold_for_precision(y, s, 0.4, sample_weight=light, confidence=0.9))
    assert threshold_for_precision(y, s, 0.4, sample_weight=heavy, confidence=0.9) == float("inf")


def test_a_partner_with_few_decisions_is_shrunk_towards_all_partners():
    # The partner's own 12 decisions look precise at the top; all partners'
    # decisions there are mostly dismissed.
    y = np.array([1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0])
    s = np.linspace(1, 0, 12)
    everyone = PrecisionCurve.of(np.r_[y, np.zeros(300, int)], np.r_[s, np.linspace(1, 0, 300)])
    alone = threshold_for_precision(y, s, 0.4, min_holds=1, confidence=0.6)
    shrunk = threshold_for_precision(
        y, s, 0.4, min_holds=1, confidence=0.6, prior=everyone, prior_strength=20
    )
    assert np.isfinite(alone) and shrunk > alone


def test_same_share_threshold_keeps_what_the_threshold_in_use_holds():
    current = np.array([0.9, 0.8, 0.75, 0.2, 0.1])  # 0.7 holds the first three
    new = np.array([0.3, 0.5, 0.1, 0.4, 0.2])
    assert same_share_threshold(new, current, 0.7) == 0.3  # holds 0.5, 0.4, 0.3
    # Weighted: the row at 0.4 stands for two, so two rows hold the same share.
    assert same_share_threshold(new, current, 0.7, [1, 1, 1, 2, 1]) == 0.4
    assert same_share_threshold(new, current, 0.95) == float("inf")


def test_without_support_the_fit_keeps_the_share_held_in_use():
    X, y, partner = _decisions(5, 400)
    model = fit_calibration(
        X,
        y,
        partner,
        components=["a", "b", "c"],
        current_weights={"a": 1, "b": 1, "c": 1},
        current_bias=-1.5,
        target_precision=0.999,
        current_threshold=0.6,
    )
    support = model.threshold_support["*"]
    assert support["source"] == "current" and np.isfinite(model.global_threshold)
    assert model.partner_thresholds == {}


def test_a_fitted_threshold_says_how_the_decisions_back_it():
    X, y, partner = _decisions(6, 3000)
    model = fit_calibration(
        X,
        y,
        partner,
        components=["a", "b", "c"],
        current_weights={"a": 1, "b": 1, "c": 1},
        current_bias=-1.5,
        target_precision=0.8,
        min_partner_decisions=100,
    )
    support = model.threshold_support
    assert support["*"]["source"] == "fit" and support["*"]["lower_bound"] >= 0.8
    assert support["*"]["precision"] >= support["*"]["lower_bound"]
    assert model.params["confidence"] == 0.9


def test_the_point_estimate_rule_is_still_available():
    X, y, partner = _decisions(7, 3000)
    kw = dict(
        components=["a", "b", "c"],
        current_weights={"a": 1, "b": 1, "c": 1},
        current_bias=-1.5,
        target_precision=0.8,
    )
    bound = fit_calibration(X, y, partner, **kw)
    point = fit_calibration(X, y, partner, confidence=None, **kw)
    assert bound.weights == point.weights
    assert point.global_threshold < bound.global_threshold


def test_a_format_1_model_still_loads():
    X, y, partner = _decisions(8, 600)
    model = fit_calibration(
        X, y, partner, components=["a", "b", "c"], current_weights={"a": 1}, current_bias=-1.0
    )
    data = json.loads(model.to_json())
    del data["threshold_support"]
    data["format"] = 1
    old = CalibrationModel.from_json(json.dumps(data))
    assert old.format == 1 and old.threshold_support == {}
    assert old.global_threshold == model.global_threshold
    np.testing.assert_array_equal(old.hold(X, partner), model.hold(X, partner))


def test_an_unknown_format_is_refused_clearly():
    X, y, partner = _decisions(9, 600)
    model = fit_calibration(
        X, y, partner, components=["a", "b", "c"], current_weights={"a": 1}, current_bias=-1.0
    )
    data = json.loads(model.to_json())
    assert data["format"] == 2
    data["format"] = 99
    with pytest.raises(ValueError, match="unknown calibration format 99"):
        CalibrationModel.from_json(json.dumps(data))
