"""scikit-learn's own estimator checks on the anomaly estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from ml.anomaly import AnomalyEnsemble, RankAggregator

# PyOD's ECOD and COPOD score a batch against the empirical CDFs of the
# reference sample plus the batch itself, so a row's raw score moves a little
# with the rows scored beside it (rank normalisation against the fitted
# reference keeps it small). Every other check applies and passes.
EXPECTED_FAILURES = {
    "check_methods_subset_invariance": (
        "ECOD and COPOD (PyOD) recompute their CDFs over reference + batch"),
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILURES if isinstance(estimator, AnomalyEnsemble) else {}


@parametrize_with_checks(
    [AnomalyEnsemble(n_estimators=10, random_state=0), RankAggregator(random_state=0)],
    expected_failed_checks=_expected_failed_checks,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
