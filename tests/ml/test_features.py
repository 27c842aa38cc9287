"""Behavioural review features on tiny batches whose answers are known by construction."""

import numpy as np
import pytest

from ml.features import (
    FeatureMatrix,
    ReviewColumns,
    graph_features,
    review_features,
    reviewer_features,
)

DAY = 86_400.0
T0 = 1_700_000_000.0


def columns(reviewer, establishment, rating, created_at, account_created_at=None, **kw):
    n = len(reviewer)
    return ReviewColumns(
        reviewer=np.asarray(reviewer, dtype=np.int64),
        establishment=np.asarray(establishment, dtype=np.int64),
        rating=np.asarray(rating, dtype=np.float64),
        created_at=np.asarray(created_at, dtype=np.float64),
        account_created_at=(
            np.full(n, np.nan)
            if account_created_at is None
            else np.asarray(account_created_at, dtype=np.float64)
        ),
        **kw,
    )


def test_rating_deviation_is_against_the_mean_of_the_other_reviews():
    cols = columns([0, 1, 2, 3], [7, 7, 7, 7], [5, 4, 5, 1], [T0] * 4)
    deviation = review_features(cols).column("rating_deviation")
    # Others of the 1-star review average (5 + 4 + 5) / 3 = 14/3.
    np.testing.assert_allclose(deviation[3], 1 - 14 / 3)
    np.testing.assert_allclose(deviation[0], 5 - 10 / 3)


def test_rating_deviation_is_zero_alone_and_nan_when_rating_unknown():
    cols = columns([0, 1, 2], [1, 2, 2], [1, np.nan, 4], [T0] * 3)
    deviation = review_features(cols).column("rating_deviation")
    assert deviation[0] == 0.0  # only review of establishment 1
    assert np.isnan(deviation[1])
    assert deviation[2] == 0.0  # its only other review has no rating


def test_rating_extremity_is_one_for_one_or_five_stars():
    cols = columns([0] * 5, [0] * 5, [1, 2, 3, 4, 5], [T0] * 5)
    extremity = review_features(cols).column("rating_extremity")
    np.testing.assert_allclose(extremity, [1.0, 0.5, 0.0, 0.5, 1.0])


def test_account_age_days_from_account_creation_to_review_and_nan_when_unknown():
    cols = columns([0, 1, 2], [0, 0, 0], [3, 3, 3], [T0 + 3 * DAY, T0, np.nan], [T0, np.nan, T0])
    age = review_features(cols).column("account_age_days")
    assert age[0] == pytest.approx(3.0)
    assert np.isnan(age[1]) and np.isnan(age[2])


def test_reviewer_and_establishment_counts():
    cols = columns([5, 5, 5, 6], [1, 1, 2, 2], [3] * 4, [T0] * 4)
    feats = review_features(cols)
    np.testing.assert_array_equal(feats.column("reviewer_review_count"), [3, 3, 3, 1])
    np.testing.assert_array_equal(feats.column("reviewer_establishment_count"), [2, 2, 2, 1])
    np.testing.assert_array_equal(feats.column("establishment_review_count"), [2, 2, 2, 2])


def test_unknown_reviewers_are_each_their_own_reviewer():
    cols = columns([-1, -1, 4], [0, 0, 0], [3] * 3, [T0] * 3)
    counts = review_features(cols).column("reviewer_review_count")
    np.testing.assert_array_equal(counts, [1, 1, 1])


def test_max_reviews_per_day_counts_the_busiest_24_hours_of_the_reviewer():
    # Reviewer 0: three reviews within 24 h, then one a week later.
    # Reviewer 1: two reviews 25 h apart.
    times = [T0, T0 + 3600, T0 + DAY, T0 + 7 * DAY, T0, T0 + 25 * 3600]
    cols = columns([0, 0, 0, 0, 1, 1], [0, 1, 2, 3, 0, 1], [3] * 6, times)
    busiest = review_features(cols).column("reviewer_max_reviews_per_day")
    np.testing.assert_array_equal(busiest, [3, 3, 3, 3, 1, 1])


def test_first_review_of_account_marks_the_earliest_row_of_each_reviewer():
    times = [T0 + 10, T0, T0 + 5, np.nan]
    cols = columns([0, 0, 1, 1], [0, 1, 0, 1], [3] * 4, times)
    first = review_features(cols).column("first_review_of_account")
    np.testing.assert_array_equal(first, [0, 1, 1, 0])


def test_shared_identifiers_count_other_reviewers_and_ignore_unknown():
    device = np.array([9, 9, 9, 4, -1])
    cols = columns([0, 0, 1, 2, 3], [0] * 5, [3] * 5, [T0] * 5, device=device)
    shared = review_features(cols).column("device_shared_reviewers")
    np.testing.assert_array_equal(shared[:4], [1, 1, 1, 0])
    assert np.isnan(shared[4])
    assert np.isnan(review_features(cols).column("email_shared_reviewers")).all()


def test_an_identifier_shared_across_platforms_is_one_guest_not_several_accounts():
    email = np.array([7, 7, 7])
    platform = np.array([1, 2, 1])  # reviewers 0 and 2 share it on platform 1
    cols = columns([0, 1, 2], [0] * 3, [3] * 3, [T0] * 3, email=email, platform=platform)
    shared = review_features(cols).column("email_shared_reviewers")
    np.testing.assert_array_equal(shared, [1, 0, 1])


def test_take_keeps_names_and_selects_rows():
    matrix = FeatureMatrix(("a", "b"), np.arange(6, dtype=np.float64).reshape(3, 2))
    taken = matrix.take(np.array([2, 0]))
    assert taken.names == ("a", "b")
    np.testing.assert_array_equal(taken.column("b"), [5, 1])


def test_graph_degrees_and_newcomer_share():
    # Reviewer 1 wrote 3 reviews; reviewers 2 and 3 one each; establishments 10 and 20.
    g = graph_features(np.array([1, 1, 1, 2, 3]), np.array([10, 20, 20, 10, 20]))
    np.testing.assert_array_equal(g.column("reviewer_degree"), [3, 3, 3, 1, 1])
    np.testing.assert_array_equal(g.column("establishment_degree"), [2, 3, 3, 2, 3])
    np.testing.assert_allclose(
        g.column("establishment_newcomer_share"), [1 / 2, 1 / 3, 1 / 3, 1 / 2, 1 / 3]
    )


def test_graph_score_aggregates_and_rank_within_establishment():
    prior = np.array([0.2, 0.4, 0.4, 0.9])
    g = graph_features(np.array([1, 1, 2, 3]), np.array([5, 5, 5, 6]), scores={"p": prior})
    np.testing.assert_allclose(g.column("p_reviewer_mean"), [0.3, 0.3, 0.4, 0.9])
    np.testing.assert_allclose(g.column("p_establishment_mean"), [1 / 3, 1 / 3, 1 / 3, 0.9])
    # Establishment 5: 0.2 is below both others, the two 0.4 tie (half of one below each).
    np.testing.assert_allclose(g.column("p_establishment_rank"), [0.0, 0.75, 0.75, 0.5])


def test_graph_features_ignore_row_order_and_code_values():
    rng = np.random.default_rng(0)
    reviewer = rng.integers(0, 30, 200)
    establishment = rng.integers(0, 8, 200)
    prior = rng.random(200).round(1)  # many ties
    base = graph_features(reviewer, establishment, scores={"p": prior}).values
    perm = rng.permutation(200)
    relabel = rng.permutation(1000)
    moved = graph_features(
        relabel[reviewer][perm], establishment[perm] + 77, scores={"p": prior[perm]}
    )
    np.testing.assert_allclose(moved.values, base[perm])


def test_reviewer_features_mean_max_and_count_per_reviewer():
    matrix = FeatureMatrix(("x",), np.array([[1.0], [3.0], [np.nan], [5.0]]))
    codes, agg = reviewer_features(np.array([9, 9, 4, 4]), matrix)
    np.testing.assert_array_equal(codes, [4, 9])
    np.testing.assert_allclose(agg.column("x_mean"), [5.0, 2.0])
    np.testing.assert_allclose(agg.column("x_max"), [5.0, 3.0])
    np.testing.assert_array_equal(agg.column("review_count"), [2, 2])
