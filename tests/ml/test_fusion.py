"""Fusion calibration on the cases the service's hold threshold depends on."""

import numpy as np
import pytest

from ml.features import ReviewColumns, review_features
from ml.fusion import REASON_CODES, fuse_components, review_risk

#: The service's default hold threshold (REVIEW_HOLD_THRESHOLD); ml/ knows no setting.
HOLD_THRESHOLD = 0.7

DAY = 86_400.0
T0 = 1_700_000_000.0


def background(n_establishments=5, per_establishment=10):
    """Old accounts, one review each, 4 or 5 stars alternating (mean 4.5)."""
    n = n_establishments * per_establishment
    return dict(
        reviewer=np.arange(100, 100 + n),
        establishment=np.repeat(np.arange(n_establishments), per_establishment),
        rating=np.tile([4.0, 5.0], n // 2),
        created_at=T0 - np.arange(n) * DAY,
        account_created_at=T0 - 400 * DAY - np.arange(n) * DAY,
    )


def with_new_reviews(bg, establishments, ratings, created_at, account_created_at, reviewer=1):
    k = len(np.atleast_1d(establishments))
    return ReviewColumns(
        reviewer=np.r_[bg["reviewer"], np.full(k, reviewer)].astype(np.int64),
        establishment=np.r_[bg["establishment"], establishments].astype(np.int64),
        rating=np.r_[bg["rating"], ratings].astype(np.float64),
        created_at=np.r_[bg["created_at"], created_at],
        account_created_at=np.r_[bg["account_created_at"], np.full(k, account_created_at)],
    )


def test_ordinary_review_scores_well_below_0_3():
    bg = background()
    # An established reviewer (two earlier reviews) writes 4 stars where others average 4.5.
    times = [T0 - 90 * DAY, T0 - 30 * DAY, T0 + DAY]
    cols = with_new_reviews(bg, [1, 2, 0], [5.0, 4.0, 4.0], times, T0 - 300 * DAY)
    risk = review_risk(review_features(cols).take(np.array([len(cols) - 1])))
    assert risk.score[0] < 0.1
    assert risk.reasons[0] == []


def test_new_accounts_lone_one_star_on_a_4_5_establishment_stays_below_hold():
    bg = background()
    cols = with_new_reviews(bg, [0], [1.0], [T0 + DAY], T0 + DAY - 3600)
    risk = review_risk(review_features(cols).take(np.array([len(cols) - 1])))
    assert 0.3 < risk.score[0] < HOLD_THRESHOLD
    codes = [r.code for r in risk.reasons[0]]
    assert set(codes) == {"new_account", "first_review", "rating_deviation"}


def test_brand_new_account_with_five_far_reviews_in_a_day_goes_above_hold():
    bg = background()
    times = T0 + DAY + np.arange(5) * 3600
    cols = with_new_reviews(bg, np.arange(5), np.ones(5), times, T0 + DAY - 60)
    target = np.arange(len(cols) - 5, len(cols))
    risk = review_risk(review_features(cols).take(target))
    assert (risk.score > HOLD_THRESHOLD).all()
    assert all(reasons[0].code == "review_burst" for reasons in risk.reasons)


def test_a_burst_alone_from_an_established_account_stays_low():
    bg = background()
    # One review a year ago, then five in a day close to the establishments' means.
    times = np.r_[T0 - 365 * DAY, T0 + DAY + np.arange(5) * 3600]
    ratings = [4.0, 4.0, 5.0, 4.0, 5.0, 4.0]
    cols = with_new_reviews(bg, [0, 0, 1, 2, 3, 4], ratings, times, T0 - 900 * DAY)
    target = np.arange(len(cols) - 5, len(cols))
    risk = review_risk(review_features(cols).take(target))
    assert (risk.score < 0.3).all()


def test_extra_component_adds_a_reason_with_its_code_and_value():
    bg = background()
    times = [T0 - 30 * DAY, T0 + DAY]
    cols = with_new_reviews(bg, [1, 0], [4.0, 4.0], times, T0 - 300 * DAY)
    feats = review_features(cols).take(np.array([len(cols) - 1]))
    plain = review_risk(feats).score[0]
    risk = review_risk(feats, extra={"ring_member": np.array([0.8])})
    assert risk.score[0] > plain
    (reason,) = risk.reasons[0]
    assert reason.code == "ring_member" and reason.score == pytest.approx(0.8)
    assert reason.values == {"value": pytest.approx(0.8)}


def test_unknown_extra_component_uses_its_name_as_code():
    feats = review_features(
        ReviewColumns(
            np.array([1]), np.array([1]), np.array([3.0]), np.array([T0]), np.array([np.nan])
        )
    )
    risk = review_risk(feats, extra={"lunar_phase": np.array([1.0])})
    # Default extra weight 1.5 beats first_review's 0.75, so it comes first.
    assert [r.code for r in risk.reasons[0]] == ["lunar_phase", "first_review"]
    assert risk.reasons[0][0].values == {"value": 1.0}


def test_extra_outside_unit_interval_is_rejected():
    feats = review_features(
        ReviewColumns(
            np.array([1]), np.array([1]), np.array([3.0]), np.array([T0]), np.array([np.nan])
        )
    )
    with pytest.raises(ValueError):
        review_risk(feats, extra={"ring_member": np.array([1.5])})


def test_reason_codes_are_stable_snake_case():
    for code in REASON_CODES:
        assert code == code.lower() and " " not in code


def test_fusing_the_returned_components_gives_the_same_risk():
    bg = background()
    times = [T0 - 30 * DAY, T0 + DAY]
    cols = with_new_reviews(bg, [1, 0], [1.0, 1.0], times, T0 - DAY)
    feats = review_features(cols).take(np.array([len(cols) - 1]))
    risk = review_risk(feats, extra={"near_duplicate_text": np.array([0.9])})
    components = {r.code: np.array([r.score]) for r in risk.reasons[0]}
    np.testing.assert_allclose(fuse_components(components), risk.score)


def test_a_component_added_later_raises_the_fused_risk():
    before = fuse_components({"new_account": np.array([1.0])})
    after = fuse_components({"new_account": np.array([1.0]), "extortion_report": np.array([1.0])})
    assert after[0] > before[0]


def _plain_features(n: int = 1):
    from ml.features import FeatureMatrix

    return FeatureMatrix(names=("rating_deviation",), values=np.zeros((n, 1)))


def test_explicit_demand_with_threat_in_the_text_alone_holds():
    result = review_risk(_plain_features(), extra={"extortion_text": np.array([0.9])})
    assert result.score[0] >= 0.7
    assert result.reasons[0][0].code == "extortion_text"


def test_audience_leverage_alone_does_not_hold():
    result = review_risk(_plain_features(), extra={"extortion_text": np.array([0.4])})
    assert result.score[0] < 0.3
