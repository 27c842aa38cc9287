"""The scenario generator: deterministic, labelled, and consistent with its own ground truth."""

import numpy as np
import pytest

from ml.scenarios import background_columns, case_rows, make_scenario, synthetic_graph

SMALL = dict(
    n_rings=4,
    n_extortions=8,
    n_serial=2,
    n_bombings=2,
    n_organic=2,
    n_honest=20,
    n_false_reports=6,
    n_slow_rings=1,
)


@pytest.fixture(scope="module")
def scenario():
    reviewer, establishment = synthetic_graph(6000, 2000, 80, random_state=1)
    return make_scenario(reviewer, establishment, random_state=3, **SMALL)


def test_synthetic_graph_has_the_requested_sizes():
    reviewer, establishment = synthetic_graph(1000, 300, 20, random_state=0)
    assert len(reviewer) == len(establishment) == 1000
    assert len(np.unique(reviewer)) == 300
    assert establishment.max() < 20


def test_background_columns_are_plausible():
    reviewer, establishment = synthetic_graph(1000, 300, 20, random_state=0)
    cols, guests = background_columns(reviewer, establishment, random_state=0)
    assert set(np.unique(cols.rating)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert (cols.account_created_at <= cols.created_at).all()
    assert all(cols.text)
    assert len(guests.name) == len(cols)


def test_same_seed_gives_the_same_scenario():
    reviewer, establishment = synthetic_graph(3000, 1000, 50, random_state=1)
    a = make_scenario(reviewer, establishment, random_state=5, **SMALL)
    b = make_scenario(reviewer, establishment, random_state=5, **SMALL)
    np.testing.assert_array_equal(a.reviews.created_at, b.reviews.created_at)
    assert a.reviews.text == b.reviews.text
    assert a.reports.message_text == b.reports.message_text


def test_every_kind_is_injected_and_labelled_on_its_rows(scenario):
    counts = {kind: len(scenario.cases_of(kind)) for kind in SMALL_KINDS}
    assert counts == EXPECTED_COUNTS
    for case in scenario.cases:
        if case.kind != "false_report":  # the target row is an honest negative
            assert set(scenario.row_kind[case.rows]) == {case.kind}


SMALL_KINDS = (
    "ring",
    "extortion",
    "serial_extortion",
    "bombing",
    "organic_outrage",
    "honest_negative",
    "false_report",
)
EXPECTED_COUNTS = dict(zip(SMALL_KINDS, (5, 8, 2, 2, 2, 20, 6), strict=True))


def test_background_rows_come_first(scenario):
    assert (scenario.row_kind[: scenario.n_background] == "background").all()
    assert case_rows(scenario.cases).min() >= scenario.n_background


def test_extortion_report_names_the_reviewer_of_its_review(scenario):
    for case in scenario.cases_of("extortion"):
        report, row = int(case.reports[0]), int(case.rows[0])
        method = case.variant["method"]
        if method == "email":
            assert scenario.reports.email[report] == scenario.reviews.email[row]
        elif method == "booking_ref":
            assert scenario.reports.booking_ref[report] == scenario.guests.booking_ref[row]
        elif method == "handle":
            assert scenario.reports.handle[report] == scenario.reviews.reviewer[row]
        assert scenario.reports.establishment[report] == scenario.reviews.establishment[row]


def test_serial_guest_threatens_establishments_of_both_partners(scenario):
    for case in scenario.cases_of("serial_extortion"):
        partners = set(scenario.reports.partner[case.reports].tolist())
        assert len(case.establishments) >= 2
        assert partners == {0, 1}


def test_false_reports_target_honest_reviews_and_low_credibility_is_low(scenario):
    credibility = scenario.report_credibility()
    for case in scenario.cases_of("false_report"):
        assert scenario.row_kind[case.rows[0]] == "honest_negative"
        low = credibility[case.reports[0]] < 0.5
        assert low == case.variant["low_credibility_owner"]


def test_bombing_crews_are_new_one_shot_accounts_without_stays(scenario):
    cols = scenario.reviews
    for case in scenario.cases_of("bombing"):
        age = (cols.created_at[case.rows] - cols.account_created_at[case.rows]) / 86_400
        assert (age <= 5).all()
        assert not cols.verified_stay[case.rows].any()
        assert len(np.unique(cols.reviewer[case.rows])) == len(case.rows)


def test_ring_members_review_at_least_two_targets(scenario):
    cols = scenario.reviews
    for case in scenario.cases_of("ring"):
        for member in case.reviewers.tolist():
            rows = np.flatnonzero(cols.reviewer == member)
            assert np.isin(cols.establishment[rows], case.establishments).sum() >= 2


def test_live_attacks_are_seeded_timed_and_labelled():
    from ml.scenarios import BURST_KINDS, LIVE_KINDS, live_attacks

    plan = live_attacks(60, duration_s=300, instances=2, random_state=4)
    again = live_attacks(60, duration_s=300, instances=2, random_state=4)
    assert [a.reviews for a in plan] == [a.reviews for a in again]
    assert sorted({a.kind for a in plan}) == sorted(LIVE_KINDS)
    for attack in plan:
        times = [r.at for r in attack.reviews]
        assert times == sorted(times) and times[0] >= 0 and times[-1] < 300
        if attack.kind in BURST_KINDS:
            assert len({r.establishment for r in attack.reviews}) == 1
        if attack.kind.startswith("organic_outrage"):
            assert attack.expected_case is None
        if attack.kind == "organic_outrage":
            assert all(r.account_age_days is None for r in attack.reviews)
    shared = next(a for a in plan if a.kind == "ring_shared_identifiers")
    key = {"device": "device", "email": "email", "ip": "ip24"}[shared.variant["shared_identifier"]]
    assert len({getattr(r, key) for r in shared.reviews}) == 1
    assert all(a.threat for a in plan if a.kind == "extortion_report")
