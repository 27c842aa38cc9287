"""ml.arrays: sort-based twins of np.unique give numpy's own answers."""

import numpy as np
import pytest

from ml.arrays import row_groups, sorted_unique, unique_counts


@pytest.fixture(params=range(5))
def values(request) -> np.ndarray:
    rng = np.random.default_rng(request.param)
    return rng.integers(-3, 4, size=int(rng.integers(1, 40)))


def test_sorted_unique_equals_numpy(values):
    assert np.array_equal(sorted_unique(values), np.unique(values))


def test_unique_counts_equals_numpy(values):
    expected = np.unique(values, return_counts=True)
    for got in (unique_counts(values), unique_counts(np.sort(values), presorted=True)):
        assert np.array_equal(got[0], expected[0])
        assert np.array_equal(got[1], expected[1])


def test_unique_counts_of_nothing_is_empty():
    uniq, counts = unique_counts(np.empty(0, np.int64))
    assert len(uniq) == 0 and len(counts) == 0


def test_row_groups_equals_numpy_rows(values):
    other = (values * 7 + 3) % 3
    expected = np.unique(np.column_stack((values, other)), axis=0, return_inverse=True)[1]
    assert np.array_equal(row_groups(values, other), expected.reshape(-1))


def test_row_groups_orders_by_the_first_column_first():
    assert row_groups(np.array([2, 1, 1]), np.array([0, 5, 4])).tolist() == [2, 1, 0]
