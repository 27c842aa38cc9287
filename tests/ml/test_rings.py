"""Ring detection on tiny batches where the ring is known by construction."""

import numpy as np
from scipy import sparse

from ml.features import ReviewColumns
from ml.rings import RING_REASONS, RingDetector, greedy_peel

DAY = 86_400.0
T0 = 1_600_000_000.0


def background(rng, n=2000, reviewers=300, establishments=20, days=1000):
    return dict(
        reviewer=rng.integers(0, reviewers, n),
        establishment=rng.integers(0, establishments, n),
        created_at=T0 + rng.uniform(0, days, n) * DAY,
    )


def columns(parts, **extra):
    reviewer = np.concatenate([p["reviewer"] for p in parts]).astype(np.int64)
    n = len(reviewer)
    created = np.concatenate([p["created_at"] for p in parts])
    return ReviewColumns(
        reviewer=reviewer,
        establishment=np.concatenate([p["establishment"] for p in parts]).astype(np.int64),
        rating=np.full(n, 5.0),
        created_at=created,
        account_created_at=created - 400 * DAY,
        **extra,
    )


def lockstep_ring(members, targets, start_day, rng, spread_days=2.0):
    """Every member reviews every target, each target within ``spread_days``."""
    reviewer = np.repeat(members, len(targets))
    establishment = np.tile(targets, len(members))
    day = start_day + np.tile(np.arange(len(targets)) * 30.0, len(members))
    return dict(
        reviewer=reviewer,
        establishment=establishment,
        created_at=T0 + (day + rng.uniform(0, spread_days, len(day))) * DAY,
    )


def test_peeling_keeps_the_block_and_drops_camouflage_on_popular_columns():
    # Rows 0-4 review columns 0-2 (the block); each also reviews its own popular
    # column 3..7, which 60 other rows review too.
    rows, cols = [], []
    for r in range(5):
        rows += [r, r, r, r]
        cols += [0, 1, 2, 3 + r]
    for k in range(300):
        rows.append(5 + k)
        cols.append(3 + k % 5)
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(305, 8))
    degree = np.asarray(matrix.sum(axis=0)).ravel()
    row_mask, col_mask, density = greedy_peel(matrix, 1.0 / np.log(5.0 + degree))
    assert np.flatnonzero(row_mask).tolist() == [0, 1, 2, 3, 4]
    assert np.flatnonzero(col_mask).tolist() == [0, 1, 2]
    assert density > 0


def test_lockstep_ring_without_identifiers_is_found_with_all_its_members():
    rng = np.random.default_rng(0)
    ring = lockstep_ring(np.arange(1000, 1006), np.array([30, 31, 32, 33]), 500, rng)
    detector = RingDetector().fit(columns([background(rng), ring]))
    assert len(detector.rings_) == 1
    assert detector.rings_[0].members.tolist() == list(range(1000, 1006))
    assert sorted(detector.rings_[0].establishments.tolist()) == [30, 31, 32, 33]


def test_ring_lists_every_review_of_its_members_and_scores_them():
    rng = np.random.default_rng(1)
    bg = background(rng)
    cols = columns([bg, lockstep_ring(np.arange(1000, 1006), np.arange(30, 34), 500, rng)])
    detector = RingDetector().fit(cols)
    ring_rows = np.flatnonzero(cols.reviewer >= 1000)
    assert detector.rings_[0].reviews.tolist() == ring_rows.tolist()
    assert (detector.review_ring_[ring_rows] == 0).all()
    assert (detector.review_score_[ring_rows] > 0).all()
    assert (detector.review_score_[: len(bg["reviewer"])] == 0).all()


def test_reasons_say_what_ties_the_members_in_both_languages():
    rng = np.random.default_rng(2)
    ring = lockstep_ring(np.arange(1000, 1006), np.arange(30, 34), 500, rng)
    (ring_found,) = RingDetector().fit(columns([background(rng), ring])).rings_
    codes = [r.code for r in ring_found.reasons]
    assert "ring_lockstep" in codes
    assert "ring_dense_block" in codes
    assert all(r.code in RING_REASONS and r.values for r in ring_found.reasons)


def test_shared_device_ties_accounts_that_review_far_apart_in_time():
    # Three accounts on one device review the same two establishments months apart.
    part = dict(
        reviewer=np.array([1000, 1001, 1002, 1000, 1001, 1002]),
        establishment=np.array([40, 40, 40, 41, 41, 41]),
        created_at=T0 + np.array([0, 100, 200, 300, 400, 500]) * DAY,
    )
    rng = np.random.default_rng(3)
    bg = background(rng)
    n = len(bg["reviewer"])
    device = np.r_[np.arange(n) + 10_000, [7, 7, 7, 7, 7, 7]]
    (ring,) = RingDetector().fit(columns([bg, part], device=device)).rings_
    assert ring.members.tolist() == [1000, 1001, 1002]
    assert ring.reasons[0].code == "ring_shared_device"


def test_crew_that_hit_one_establishment_only_is_not_a_ring():
    part = dict(
        reviewer=np.arange(1000, 1010),
        establishment=np.full(10, 40),
        created_at=T0 + np.arange(10) * 3600.0,
    )
    rng = np.random.default_rng(4)
    bg = background(rng)
    device = np.r_[np.arange(len(bg["reviewer"])) + 10_000, np.full(10, 7)]
    assert RingDetector().fit(columns([bg, part], device=device)).rings_ == []


def test_two_accounts_of_a_household_are_not_a_ring():
    part = dict(
        reviewer=np.array([1000, 1001, 1000, 1001]),
        establishment=np.array([40, 40, 41, 41]),
        created_at=T0 + np.array([0, 0, 30, 30]) * DAY,
    )
    rng = np.random.default_rng(5)
    bg = background(rng)
    device = np.r_[np.arange(len(bg["reviewer"])) + 10_000, [7, 7, 7, 7]]
    assert RingDetector().fit(columns([bg, part], device=device)).rings_ == []


def test_reviewing_together_at_a_busy_moment_is_weaker_evidence():
    # Two reviewers meet at two establishments: quietly, or amid 30 other reviews.
    rng = np.random.default_rng(6)
    pair = dict(
        reviewer=np.array([1000, 1001, 1000, 1001]),
        establishment=np.array([40, 40, 41, 41]),
        created_at=T0 + np.array([500, 500.5, 600, 600.5]) * DAY,
    )
    crowd = dict(
        reviewer=np.arange(2000, 2030),
        establishment=np.full(30, 40),
        created_at=T0 + rng.uniform(499, 501, 30) * DAY,
    )
    bg = background(rng)
    quiet = RingDetector().fit(columns([bg, pair]))
    busy = RingDetector().fit(columns([bg, pair, crowd]))

    def log10p(detector):
        ties, codes = detector.ties_, detector.reviewers_
        k = np.flatnonzero((codes[ties.a] == 1000) & (codes[ties.b] == 1001))
        return float(ties.lockstep_log10p[k[0]])

    assert log10p(busy) < log10p(quiet)


def test_near_identical_texts_about_one_establishment_tie_their_writers():
    template = (
        "Absolutely wonderful stay, the spotless room overlooked the river and the "
        "breakfast pastries were the best in town. The staff went above and beyond."
    )
    texts = [template, template.replace("best", "finest"), template.upper(), template]
    part = dict(
        reviewer=np.array([1000, 1001, 1002, 1003]),
        establishment=np.array([40, 40, 40, 41]),
        created_at=T0 + np.array([0, 90, 180, 270]) * DAY,
    )
    rng = np.random.default_rng(7)
    bg = background(rng, n=300)
    text = ["short"] * len(bg["reviewer"]) + texts
    detector = RingDetector().fit(columns([bg, part], text=text))
    ties, codes = detector.ties_, detector.reviewers_
    pairs = {
        (int(codes[a]), int(codes[b]))
        for a, b, t in zip(ties.a, ties.b, ties.text_pairs, strict=True)
        if t > 0
    }
    # The copy about establishment 41 ties nobody.
    assert pairs == {(1000, 1001), (1000, 1002), (1001, 1002)}


def test_weak_ties_to_many_members_add_up_to_membership():
    rng = np.random.default_rng(8)
    core = lockstep_ring(np.arange(1000, 1008), np.arange(30, 36), 500, rng, spread_days=1)
    # 1008 joins the campaign on two targets only: weak ties, but with every member.
    late = dict(
        reviewer=np.array([1008, 1008]),
        establishment=np.array([30, 31]),
        created_at=T0 + np.array([500.5, 530.5]) * DAY,
    )
    bg = background(rng, n=20_000, reviewers=4000, establishments=200)
    (ring,) = RingDetector().fit(columns([bg, core, late])).rings_
    assert 1008 in ring.members.tolist()


def test_busy_accounts_behind_one_carrier_nat_are_not_a_ring():
    # 25 hyperactive accounts, 40 reviews each, every fifth one from a few NAT IPs.
    rng = np.random.default_rng(9)
    n = 25 * 40
    part = dict(
        reviewer=np.repeat(np.arange(1000, 1025), 40),
        establishment=rng.integers(0, 20, n),
        created_at=T0 + rng.uniform(0, 1000, n) * DAY,
    )
    bg = background(rng)
    m = len(bg["reviewer"])
    ip = np.r_[
        np.arange(m) + 50_000,
        np.where(np.arange(n) % 5 == 0, 7 + np.arange(n) % 3, 90_000 + np.arange(n)),
    ]
    assert RingDetector().fit(columns([bg, part], ip=ip)).rings_ == []


def _naive_peel(matrix, col_weight):
    """FRAUDAR's peeling written plainly: at each step, the alive node of least
    weighted degree (lowest index among equals) goes; the densest set seen wins."""
    dense = matrix.toarray() * np.asarray(col_weight)[None, :]
    m, k = dense.shape
    rows, cols = np.ones(m, bool), np.ones(k, bool)
    best, best_rows, best_cols = -1.0, rows.copy(), cols.copy()
    while rows.any() or cols.any():
        inside = dense[np.ix_(rows, cols)]
        size = rows.sum() + cols.sum()
        if inside.sum() / size > best + 1e-12:
            best, best_rows, best_cols = inside.sum() / size, rows.copy(), cols.copy()
        degree = np.r_[np.where(rows, dense[:, cols].sum(axis=1), np.inf),
                       np.where(cols, dense[rows, :].sum(axis=0), np.inf)]
        node = int(np.argmin(degree))
        if node < m:
            rows[node] = False
        else:
            cols[node - m] = False
    return best_rows, best_cols, best


def test_peeling_removes_nodes_in_the_order_of_the_plain_algorithm():
    # Weights 1, 1/2 and 1/4 add up exactly, so ties are real ties and both
    # versions must break them the same way.
    rng = np.random.default_rng(7)
    for trial in range(200):
        m, k = int(rng.integers(1, 25)), int(rng.integers(1, 12))
        matrix = sparse.random(m, k, density=rng.uniform(0.1, 0.7), random_state=trial,
                               format="csr")
        matrix.data[:] = 1.0
        weight = rng.choice([1.0, 0.5, 0.25], size=k)
        rows, cols, density = greedy_peel(matrix, weight)
        want_rows, want_cols, want_density = _naive_peel(matrix, weight)
        assert density == want_density
        assert rows.tolist() == want_rows.tolist()
        assert cols.tolist() == want_cols.tolist()


def test_focus_describes_only_the_rings_of_its_reviewers_and_finds_them_unchanged():
    rng = np.random.default_rng(8)
    first = lockstep_ring(np.arange(1000, 1006), np.arange(30, 34), 500, rng)
    second = lockstep_ring(np.arange(2000, 2006), np.arange(40, 44), 700, rng)
    cols = columns([background(rng), first, second])
    everything = RingDetector().fit(cols)
    assert len(everything.rings_) == 2

    focus = np.flatnonzero(cols.reviewer == 2003)[:1]
    focused = RingDetector().fit(cols, focus=focus)
    (ring,) = focused.rings_
    (same,) = [r for r in everything.rings_ if 2003 in r.members]
    assert ring.members.tolist() == same.members.tolist()
    assert ring.reviews.tolist() == same.reviews.tolist()
    assert ring.score == same.score
    assert (focused.review_ring_[cols.reviewer < 2000] == -1).all()
