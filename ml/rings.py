"""Sock-puppet rings: reviewers tied by identifiers, lockstep co-reviewing, copied text, dense blocks.

Pairs of reviewers are tied by evidence points (a shared email or device, a
lockstep co-reviewing pattern too regular for chance, near-identical texts; a
shared IP or /24 only corroborates). Connected components of the ties are the
candidate rings; each is refined by camouflage-resistant greedy peeling
(FRAUDAR, column weights 1/log(c + degree)) of its reviewer x establishment
block, so that only members attached to the dense core stay. Everything above
the per-component refinement is a sort-and-search or sparse-matrix operation
over the whole batch; components are independent, so a batch can also be
partitioned by component.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import poisson

from ml.arrays import sorted_unique, unique_counts
from ml.features import SECONDS_PER_DAY, ReviewColumns
from ml.fusion import Reason
from ml.text import NearDuplicateDetector

__all__ = [
    "RING_REASONS",
    "Ring",
    "RingDetector",
    "Ties",
    "greedy_peel",
]


# --------------------------------------------------------------------------- #
# Dense-block peeling


def greedy_peel(
    matrix: sparse.spmatrix, col_weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """FRAUDAR greedy peeling: the block of ``matrix`` with the highest weighted density.

    ``matrix`` is a binary rows x columns incidence (reviewers x establishments);
    an edge in column j weighs ``col_weight[j]`` (FRAUDAR's ``1 / log(c + deg_j)``,
    so camouflage on popular columns adds little). Density of a node set S is
    ``sum of edge weights inside S / |S|``. Nodes (rows and columns) are removed
    one at a time, always the one with the least weighted degree (the lowest
    index among equals), with a heap of lazily invalidated entries; the densest
    intermediate set is returned as (row mask, column mask, density). O(E log N).

    The loop runs once per node and once per edge, on Python lists: numpy's
    per-call overhead on arrays of a few elements cost twice as much (a live
    batch's flood block of 2,883 x 200: 58 -> 27 ms, bench/RESULTS.md).
    """
    csr = sparse.csr_matrix(matrix, dtype=np.float64)
    csr.data = np.asarray(col_weight, dtype=np.float64)[csr.indices]
    csc = csr.tocsc()
    m, k = csr.shape
    size = m + k
    if size == 0:
        return np.zeros(0, bool), np.zeros(0, bool), 0.0
    priority = np.concatenate(
        (np.asarray(csr.sum(axis=1)).ravel(), np.asarray(csr.sum(axis=0)).ravel())
    ).tolist()
    total = float(csr.data.sum())
    # Nodes 0..m-1 are rows, m..m+k-1 columns: each node's neighbours and edge
    # weights, rows' from the CSR and columns' from the CSC.
    start = np.concatenate((csr.indptr, csr.indptr[-1] + csc.indptr[1:])).tolist()
    neighbour = np.concatenate((csr.indices + m, csc.indices)).tolist()
    weight = np.concatenate((csr.data, csc.data)).tolist()
    alive = [True] * size
    heap = list(zip(priority, range(size), strict=True))
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    removed: list[int] = []
    best, best_step = total / size, 0
    while heap:
        value, node = pop(heap)
        if not alive[node] or value != priority[node]:
            continue  # stale entry
        alive[node] = False
        removed.append(node)
        total -= value
        size -= 1
        for edge in range(start[node], start[node + 1]):
            other = neighbour[edge]
            if alive[other]:
                lowered = priority[other] - weight[edge]
                priority[other] = lowered
                push(heap, (lowered, other))
        if size and total / size > best + 1e-12:
            best, best_step = total / size, len(removed)
    keep = np.ones(m + k, dtype=bool)
    keep[removed[:best_step]] = False
    return keep[:m], keep[m:], float(best)


# --------------------------------------------------------------------------- #
# Ties between reviewers

# Evidence points; a tie needs ``edge_points`` (3) in total.
# A shared IP or /24 only corroborates (carrier NAT, hotel wifi): with a single
# copied text or a weak lockstep it stays short of an edge; two independent
# weak behaviours (weak lockstep + a copied text) make one.
_POINTS = {
    "email": 3.0,
    "device": 3.0,
    "ip": 1.0,
    "ip24": 0.5,
    "lockstep_strong": 3.0,
    "lockstep_weak": 1.5,
    "text_many": 3.0,
    "text_one": 1.5,
}


@dataclass(frozen=True)
class Ties:
    """Candidate reviewer pairs (dense reviewer indices a < b) and their evidence."""

    a: np.ndarray
    b: np.ndarray
    points: np.ndarray  # float64 total evidence points
    email: np.ndarray  # bool: share an email
    device: np.ndarray  # bool
    ip: np.ndarray  # bool
    ip24: np.ndarray  # bool
    lockstep: np.ndarray  # int64 establishments co-reviewed within the window
    lockstep_log10p: np.ndarray  # float64 -log10 chance probability of that lockstep
    text_pairs: np.ndarray  # int64 near-duplicate review pairs between the two

    def __len__(self) -> int:
        return len(self.a)


def _factorize(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique known codes, dense index per row with -1 for unknown)."""
    codes = np.asarray(codes, dtype=np.int64)
    known = codes >= 0
    uniq, inverse = np.unique(codes[known], return_inverse=True)
    dense = np.full(len(codes), -1, dtype=np.int64)
    dense[known] = inverse
    return uniq, dense


def _pairs_within_groups(group: np.ndarray, member: np.ndarray, max_size: int):
    """All member pairs (a < b) sharing a group, over groups of 2..max_size distinct members."""
    key = sorted_unique(group * np.int64(member.max() + 1) + member)
    g, mem = key // (member.max() + 1), key % (member.max() + 1)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    ok = (sizes >= 2) & (sizes <= max_size)
    starts, sizes = starts[ok], sizes[ok]
    pos = np.repeat(starts, sizes) + (
        np.arange(sizes.sum(), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    )
    end = np.repeat(starts + sizes, sizes)
    count = end - pos - 1
    left = np.repeat(pos, count)
    right = (
        left
        + 1
        + (np.arange(count.sum(), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count))
    )
    a, b = mem[left], mem[right]
    return np.minimum(a, b), np.maximum(a, b)


def _incidence(row: np.ndarray, col: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(
        (np.ones(len(row), dtype=np.float64), (row, col)), shape=shape, dtype=np.float64
    )
    matrix.data[:] = 1.0  # duplicates summed by the constructor: back to binary
    return matrix


def _rowwise_dot(left: sparse.csr_matrix, right: sparse.csr_matrix, a, b, chunk=200_000):
    """``left[a[i]] . right[b[i]]`` for every i, in chunks."""
    out = np.zeros(len(a), dtype=np.float64)
    for s in range(0, len(a), chunk):
        out[s : s + chunk] = np.asarray(
            left[a[s : s + chunk]].multiply(right[b[s : s + chunk]]).sum(axis=1)
        ).ravel()
    return out


# --------------------------------------------------------------------------- #
# Rings


@dataclass(frozen=True)
class Ring:
    members: np.ndarray  # int64 reviewer codes (as in ReviewColumns.reviewer), sorted
    reviews: np.ndarray  # int64 row indices of every review written by the members
    establishments: np.ndarray  # int64 establishment codes of the dense block (the targets)
    score: float  # strength in [0, 1]
    reasons: list[Reason]  # what ties the members, strongest first


#: The codes of the reasons a ring carries (values named in each ``_reason`` call).
RING_REASONS: tuple[str, ...] = (
    "ring_shared_email", "ring_shared_device", "ring_shared_ip", "ring_lockstep",
    "ring_near_duplicate_text", "ring_dense_block", "ring_new_accounts",
)


def _reason(code: str, score: float, **values: object) -> Reason:
    assert code in RING_REASONS, code
    return Reason(code, float(score), values)


class RingDetector:
    """Find sock-puppet rings in a batch of reviews (scikit-learn style).

    Parameters (stored unchanged):
    - ``window_days``: lockstep window; two reviews of one establishment within
      it are "together".
    - ``lockstep_alpha`` / ``lockstep_weak_alpha``: chance probability below
      which lockstep earns 3 points (with at least ``min_lockstep``
      establishments together) / 1.5 points: Poisson tail of the number of
      establishments two reviewers reviewed within the window, against a
      configuration model (b reviews e with probability ``d_b deg_e / E``, then
      falls within the window of a's review with the share of e's reviews that
      fall there, so busy moments such as an incident or a campaign count
      little).
    - ``text_threshold``, ``min_text_chars``, ``num_perm``, ``bands``,
      ``text_sample``: MinHash near-duplicate search over texts of at least
      ``min_text_chars`` characters, between reviews of one establishment.
    - ``max_shared``: identifiers shared by more reviewers are ignored (kiosks,
      carrier NAT); ``edge_points``: evidence a tie needs; ``attach_points``:
      evidence (summed over ties) that merges two groups or adds a reviewer to
      a group, for ``attach_rounds`` rounds.
    - ``min_size``, ``min_establishments``: a ring has at least this many
      members and targets (a crew that hit one establishment is a burst,
      ``ml.bursts``). ``min_lift``: the members' reviews of their targets must
      exceed this many times what chance predicts for accounts and places this
      active. ``c``: FRAUDAR's column-weight constant.
    - ``new_account_days``: accounts younger than this at their first review are
      counted in the reasons.

    ``fit(cols)`` sets ``rings_`` (list of Ring), ``ties_`` (Ties, dense
    reviewer indices into ``reviewers_``), ``reviewers_`` (the reviewer codes),
    ``review_ring_`` (ring index per row, -1 none) and ``review_score_`` (the
    ring's score per row, 0 none; fusion component ``ring_member``).
    """

    def __init__(
        self,
        window_days: float = 7.0,
        lockstep_alpha: float = 1e-6,
        min_lockstep: int = 3,
        lockstep_weak_alpha: float = 1e-3,
        text_threshold: float = 0.5,
        min_text_chars: int = 60,
        num_perm: int = 64,
        bands: int = 16,
        text_sample: int = 1,
        max_shared: int = 100,
        edge_points: float = 3.0,
        attach_points: float = 4.5,
        attach_rounds: int = 3,
        min_size: int = 3,
        min_establishments: int = 2,
        min_lift: float = 1.5,
        c: float = 5.0,
        new_account_days: float = 30.0,
        max_neighbours: int = 50,
        random_state: int = 0,
    ) -> None:
        self.window_days = window_days
        self.lockstep_alpha = lockstep_alpha
        self.min_lockstep = min_lockstep
        self.lockstep_weak_alpha = lockstep_weak_alpha
        self.text_threshold = text_threshold
        self.min_text_chars = min_text_chars
        self.num_perm = num_perm
        self.bands = bands
        self.text_sample = text_sample
        self.max_shared = max_shared
        self.edge_points = edge_points
        self.attach_points = attach_points
        self.attach_rounds = attach_rounds
        self.min_size = min_size
        self.min_establishments = min_establishments
        self.min_lift = min_lift
        self.c = c
        self.new_account_days = new_account_days
        self.max_neighbours = max_neighbours
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        cols: ReviewColumns,
        y: object = None,
        *,
        background: tuple[np.ndarray, np.ndarray, float] | None = None,
        focus: np.ndarray | None = None,
    ) -> RingDetector:
        """Find rings among the rows of ``cols``.

        ``background`` describes the activity around ``cols`` when it is only a
        neighbourhood of a larger table: ``(establishment codes, their review
        counts, total reviews)`` over the same period. Chance (the dense-block
        lift) and camouflage weights are then judged against the table, not
        against a sample that the ring itself dominates. None: ``cols`` is the
        whole population.

        ``focus`` (row indices): only the rings that the reviewers of these rows
        belong to are wanted (a live batch's new reviews in their
        neighbourhood). Ties and groups are still found over every row, so those
        rings are exactly the ones a fit without ``focus`` finds; the groups of
        other reviewers are neither refined nor described.
        """
        n = len(cols)
        self.reviewers_, reviewer = _factorize(cols.reviewer)
        est_codes, establishment = _factorize(cols.establishment)
        n_rev = len(self.reviewers_)
        n_est = int(establishment.max()) + 1 if n and (establishment >= 0).any() else 0
        day = np.asarray(cols.created_at, dtype=np.float64) / SECONDS_PER_DAY
        usable = (reviewer >= 0) & (establishment >= 0)
        self._incidence = _incidence(reviewer[usable], establishment[usable], (n_rev, n_est))
        degree = np.asarray(self._incidence.sum(axis=0)).ravel().astype(np.float64)
        self._total = float(degree.sum())
        if background is not None:
            codes, counts, total = background
            codes = np.asarray(codes, dtype=np.int64)
            counts = np.asarray(counts, dtype=np.float64)
            known = np.isin(codes, est_codes[:n_est])
            where = np.searchsorted(est_codes[:n_est], codes[known])
            degree[where] = np.maximum(degree[where], counts[known])
            self._total = max(float(degree.sum()), float(total))
        self._degree = degree
        self._col_weight = 1.0 / np.log(self.c + degree)

        self.ties_ = self._ties(cols, reviewer, establishment, day, n_rev, n_est)
        wanted = None
        if focus is not None:
            wanted = np.zeros(n_rev, dtype=bool)
            of_focus = reviewer[np.asarray(focus, dtype=np.int64)]
            wanted[of_focus[of_focus >= 0]] = True
        self.rings_ = self._rings(cols, reviewer, n_rev, wanted)
        self.review_ring_ = np.full(n, -1, dtype=np.int64)
        self.review_score_ = np.zeros(n, dtype=np.float64)
        for k, ring in enumerate(self.rings_):
            self.review_ring_[ring.reviews] = k
            self.review_score_[ring.reviews] = ring.score
        del self._incidence, self._col_weight, self._degree, self._total
        return self

    # ----------------------------------------------------------------- ties
    def _lockstep_pairs(self, reviewer, establishment, day, n_rev):
        ok = (reviewer >= 0) & (establishment >= 0) & ~np.isnan(day)
        rows = np.flatnonzero(ok)
        if len(rows) < 2:
            empty = np.empty(0, np.int64)
            return empty, empty, empty, np.zeros(n_rev)
        origin = day[rows].min() - 1.0
        width = day[rows].max() - origin + self.window_days + 2.0
        key = establishment[rows] * width + (day[rows] - origin)
        order = np.argsort(key, kind="stable")
        key, rows = key[order], rows[order]
        hi = np.searchsorted(key, key + self.window_days, side="right")
        lo = np.searchsorted(key, key - self.window_days, side="left")
        # Other reviews of the same establishment within the window of each
        # review: at a busy moment (an incident, a campaign) being "together"
        # is cheap, so this is what the chance model charges for it.
        near = np.bincount(reviewer[rows], weights=hi - lo - 1, minlength=n_rev)
        pos = np.arange(len(key), dtype=np.int64)
        count = np.minimum(hi - pos - 1, self.max_neighbours)
        left = np.repeat(pos, count)
        right = (
            left
            + 1
            + (np.arange(count.sum(), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count))
        )
        ra, rb = reviewer[rows[left]], reviewer[rows[right]]
        est = establishment[rows[left]]
        diff = ra != rb
        a, b, est = np.minimum(ra, rb)[diff], np.maximum(ra, rb)[diff], est[diff]
        pair = a * np.int64(n_rev) + b
        # Distinct establishments per pair.
        width_e = np.int64(max(int(establishment.max()) + 1, 1))
        pe = sorted_unique(pair * width_e + est)
        pair_of = pe // width_e
        uniq, together = unique_counts(pair_of, presorted=True)
        return uniq // n_rev, uniq % n_rev, together.astype(np.int64), near

    def _text_pairs(self, cols, reviewer, establishment, n_rev):
        if cols.text is None:
            empty = np.empty(0, np.int64)
            return empty, empty, empty
        lengths = np.fromiter(
            (len(t or "") for t in cols.text), dtype=np.int64, count=len(cols.text)
        )
        eligible = np.flatnonzero(
            (lengths >= self.min_text_chars) & (reviewer >= 0) & (establishment >= 0)
        )
        # Only copies about the same establishment tie two reviewers (generic
        # phrasing recurs across a big corpus, a copied review of one place does
        # not), so LSH buckets are keyed by establishment too.
        detector = NearDuplicateDetector(
            num_perm=self.num_perm,
            threshold=self.text_threshold,
            bands=self.bands,
            sample=self.text_sample,
            random_state=self.random_state,
        ).fit([cols.text[i] for i in eligible.tolist()], groups=establishment[eligible])
        i, j, _ = detector.pairs_
        ra, rb = reviewer[eligible[i]], reviewer[eligible[j]]
        diff = ra != rb
        pair = np.minimum(ra, rb)[diff] * np.int64(n_rev) + np.maximum(ra, rb)[diff]
        uniq, count = unique_counts(pair)
        return uniq // n_rev, uniq % n_rev, count.astype(np.int64)

    def _ties(self, cols, reviewer, establishment, day, n_rev, n_est) -> Ties:
        parts_a, parts_b = [], []
        strong: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in ("email", "device"):
            values = getattr(cols, name)
            if values is None:
                continue
            values = np.asarray(values, dtype=np.int64)
            ok = (values >= 0) & (reviewer >= 0)
            if ok.sum() < 2:
                continue
            _, group = np.unique(values[ok], return_inverse=True)
            a, b = _pairs_within_groups(group.astype(np.int64), reviewer[ok], self.max_shared)
            strong[name] = (a, b)
            parts_a.append(a)
            parts_b.append(b)
        la, lb, together, near = self._lockstep_pairs(reviewer, establishment, day, n_rev)
        lock_keep = together >= 2
        la, lb, together = la[lock_keep], lb[lock_keep], together[lock_keep]
        ta, tb, text_count = self._text_pairs(cols, reviewer, establishment, n_rev)
        parts_a += [la, ta]
        parts_b += [lb, tb]

        pair = sorted_unique(np.concatenate(parts_a) * np.int64(n_rev) + np.concatenate(parts_b))
        a, b = pair // max(n_rev, 1), pair % max(n_rev, 1)

        def flag(pa, pb):
            out = np.zeros(len(pair), dtype=bool)
            out[np.searchsorted(pair, pa * np.int64(n_rev) + pb)] = True
            return out

        def value(pa, pb, v):
            out = np.zeros(len(pair), dtype=np.int64)
            out[np.searchsorted(pair, pa * np.int64(n_rev) + pb)] = v
            return out

        email = flag(*strong["email"]) if "email" in strong else np.zeros(len(pair), bool)
        device = flag(*strong["device"]) if "device" in strong else np.zeros(len(pair), bool)
        lockstep = value(la, lb, together)
        text_pairs = value(ta, tb, text_count)

        # Chance of the lockstep under a configuration model: b reviews the
        # establishment e of a's review i with probability d_b deg_e / E, and then
        # lands within the window of i with probability near_i / deg_e (near_i:
        # the other reviews of e within the window of i). Summed over a's reviews
        # (and symmetrised) this is the expected together-count; Poisson tail.
        log10p = np.zeros(len(pair))
        has_lock = lockstep >= 2
        if has_lock.any() and n_est:
            activity = np.asarray(self._incidence.sum(axis=1)).ravel()
            exposure = near / max(float(self._incidence.sum()), 1.0)
            pa, pb = a[has_lock], b[has_lock]
            lam = 0.5 * (activity[pb] * exposure[pa] + activity[pa] * exposure[pb])
            sf = poisson.sf(lockstep[has_lock] - 1, np.maximum(lam, 1e-12))
            log10p[has_lock] = -np.log10(np.maximum(sf, 1e-300))

        ip = self._shares(cols.ip, reviewer, n_rev, a, b)
        ip24 = self._shares(cols.ip24, reviewer, n_rev, a, b) & ~ip
        points = np.maximum(email * _POINTS["email"], device * _POINTS["device"])
        points += np.where(
            (log10p >= -np.log10(self.lockstep_alpha)) & (lockstep >= self.min_lockstep),
            _POINTS["lockstep_strong"],
            np.where(log10p >= -np.log10(self.lockstep_weak_alpha), _POINTS["lockstep_weak"], 0),
        )
        # Copies count fully when they are a habit of the pair (about a third of
        # the places both reviewed or more), not a coincidence between two
        # accounts that review the same hundreds of places.
        shared = np.zeros(len(pair))
        has_text = text_pairs > 0
        if has_text.any():
            shared[has_text] = _rowwise_dot(
                self._incidence, self._incidence, a[has_text], b[has_text]
            )
        habit = (text_pairs >= 2) & (text_pairs >= 0.3 * shared)
        points += np.where(
            habit, _POINTS["text_many"], np.where(text_pairs >= 1, _POINTS["text_one"], 0)
        )
        # An address only corroborates other evidence: alone it is carrier NAT
        # or hotel wifi, and summed over many pairs it would tie every busy account.
        points += np.where(points > 0, ip * _POINTS["ip"] + ip24 * _POINTS["ip24"], 0.0)
        return Ties(a, b, points, email, device, ip, ip24, lockstep, log10p, text_pairs)

    def _shares(self, values, reviewer, n_rev, a, b) -> np.ndarray:
        """Whether each pair (a, b) shares a value of ``values`` used by <= max_shared reviewers."""
        if values is None or len(a) == 0:
            return np.zeros(len(a), dtype=bool)
        values = np.asarray(values, dtype=np.int64)
        ok = (values >= 0) & (reviewer >= 0)
        if not ok.any():
            return np.zeros(len(a), dtype=bool)
        _, group = np.unique(values[ok], return_inverse=True)
        incidence = _incidence(reviewer[ok], group, (n_rev, int(group.max()) + 1))
        users = np.asarray(incidence.sum(axis=0)).ravel()
        incidence = incidence[:, np.flatnonzero(users <= self.max_shared)].tocsr()
        return _rowwise_dot(incidence, incidence, a, b) > 0

    # ----------------------------------------------------------------- rings
    def _rings(self, cols, reviewer, n_rev, wanted: np.ndarray | None) -> list[Ring]:
        ties = self.ties_
        if len(ties) == 0:
            return []
        # Symmetric matrix of evidence points over every tie, weak ones included.
        weights = sparse.coo_matrix((ties.points, (ties.a, ties.b)), shape=(n_rev, n_rev)).tocsr()
        weights = (weights + weights.T).tocsr()
        # Seeds: reviewers joined by edges, and among the others, those whose
        # weak ties to one another keep adding up to ``attach_points`` each (a
        # weighted core); groups that are tied to each other merge later.
        seed = np.zeros(n_rev, dtype=bool)
        edge = ties.points >= self.edge_points
        seed[ties.a[edge]] = True
        seed[ties.b[edge]] = True
        core = self._weighted_core(weights) & ~seed
        links = _edge_matrix(ties, edge, n_rev) + _restrict(weights, core)
        _, component = connected_components(links, directed=False)
        group = np.where(seed | core, component, -1)
        group = self._merge_and_attach(group, weights)

        # Rows of every reviewer, grouped by reviewer (for ring review lists).
        row_order = np.argsort(reviewer, kind="stable")
        row_start = np.searchsorted(reviewer[row_order], np.arange(n_rev + 1))
        members_of = np.argsort(group, kind="stable")
        sorted_group = group[members_of]
        rings = []
        for g in np.unique(group[group >= 0]).tolist():
            lo, hi = np.searchsorted(sorted_group, [g, g + 1])
            members = members_of[lo:hi]
            if len(members) < self.min_size or (wanted is not None and not wanted[members].any()):
                continue
            ring = self._refine(members, weights)
            if ring is None:
                continue
            core, targets = ring
            rows = np.concatenate([row_order[row_start[m] : row_start[m + 1]] for m in core])
            rings.append(self._describe(cols, core, np.sort(rows), targets))
        rings.sort(key=lambda r: (-r.score, -len(r.members)))
        return rings

    def _weighted_core(self, weights: sparse.csr_matrix) -> np.ndarray:
        """Reviewers left after repeatedly removing those whose ties to the
        remaining ones total less than ``attach_points``."""
        alive = np.asarray(weights.sum(axis=1)).ravel() >= self.attach_points
        for _ in range(50):
            degree = weights @ alive.astype(np.float64)
            still = alive & (degree >= self.attach_points)
            if np.array_equal(still, alive):
                break
            alive = still
        return alive

    def _merge_and_attach(self, group: np.ndarray, weights: sparse.csr_matrix) -> np.ndarray:
        """Grow groups with the evidence that weak ties add up to.

        A reviewer with many weak ties into a group (two shared targets with
        each of several members) is as tied as one with a strong tie, so:
        groups whose ties to each other total ``attach_points`` merge, and a
        reviewer whose ties into one group total ``attach_points`` joins it.
        """
        n_rev = len(group)
        for _ in range(self.attach_rounds):
            _, dense = np.unique(np.where(group >= 0, group, -1), return_inverse=True)
            dense = dense - (1 if (group < 0).any() else 0)
            k = int(dense.max()) + 1 if (dense >= 0).any() else 0
            if k == 0:
                return group
            member = np.flatnonzero(dense >= 0)
            membership = sparse.csr_matrix(
                (np.ones(len(member)), (member, dense[member])), shape=(n_rev, k)
            )
            into = (weights @ membership).tocsr()  # reviewer x group: points into the group
            between = (membership.T @ into).tocoo()  # group x group
            keep = (between.row != between.col) & (between.data >= self.attach_points)
            merged = sparse.coo_matrix(
                (np.ones(int(keep.sum())), (between.row[keep], between.col[keep])), shape=(k, k)
            )
            _, label = connected_components(merged, directed=False)
            new_group = np.where(dense >= 0, label[np.maximum(dense, 0)], -1)
            # Outsiders join the group they have the most points into.
            into = into.tocoo()
            outside = new_group[into.row] < 0
            rows, cols, pts = into.row[outside], label[into.col[outside]], into.data[outside]
            if len(rows):
                per = sparse.coo_matrix((pts, (rows, cols)), shape=(n_rev, k)).tocsr()
                best = np.asarray(per.argmax(axis=1)).ravel()
                best_pts = np.asarray(per.max(axis=1).todense()).ravel()
                join = (best_pts >= self.attach_points) & (new_group < 0)
                new_group[join] = best[join]
            if np.array_equal(new_group >= 0, group >= 0) and np.array_equal(new_group, group):
                break
            group = new_group
        return group

    def _refine(self, members, weights):
        block = self._incidence[members]
        cols_used = np.flatnonzero(np.asarray(block.sum(axis=0)).ravel() > 0)
        block = block[:, cols_used]
        row_mask, col_mask, _ = greedy_peel(block, self._col_weight[cols_used])
        core = members[row_mask]
        # Keep the dense core and every member tied into it as strongly as a
        # reviewer joining a group; drop what merely hangs off it.
        into_core = np.asarray(weights[members][:, core].sum(axis=1)).ravel()
        kept = members[row_mask | (into_core >= self.attach_points)]
        targets = cols_used[col_mask]
        # Targets: block columns that at least two kept members reviewed.
        per_target = np.asarray(self._incidence[kept][:, targets].sum(axis=0)).ravel()
        targets = targets[per_target >= 2]
        if len(kept) < self.min_size or len(targets) < self.min_establishments:
            return None
        # A busy crowd (hyperactive accounts on popular places) ties itself by
        # chance; a ring concentrates on its targets far beyond chance.
        if self._lift(kept, targets)[1] < self.min_lift:
            return None
        return np.sort(kept), targets

    def _lift(self, core: np.ndarray, targets: np.ndarray) -> tuple[int, float]:
        """Reviews between ``core`` and ``targets``, and their ratio to what a
        configuration model expects for reviewers and establishments this active."""
        block = self._incidence[core]
        block_reviews = int(block[:, targets].sum())
        degree = self._degree
        expected = block.sum() * degree[targets].sum() / max(self._total, 1.0)
        return block_reviews, block_reviews / max(expected, 1e-12)

    def _describe(self, cols, core, rows, targets) -> Ring:
        ties = self.ties_
        in_ring = np.zeros(len(self.reviewers_), dtype=bool)
        in_ring[core] = True
        inside = in_ring[ties.a] & in_ring[ties.b]
        reasons: list[Reason] = []
        evidence = []

        def members_with(mask):
            return len(np.unique(np.concatenate((ties.a[inside & mask], ties.b[inside & mask]))))

        for code, mask, strength in (
            ("ring_shared_email", ties.email, 0.9),
            ("ring_shared_device", ties.device, 0.9),
            ("ring_shared_ip", ties.ip | ties.ip24, 0.4),
        ):
            k = members_with(mask)
            if k:
                reasons.append(_reason(code, strength, members=k))
                evidence.append(strength)
        lock = inside & (ties.lockstep_log10p >= -np.log10(self.lockstep_weak_alpha))
        if lock.any():
            log10p = float(ties.lockstep_log10p[lock].max())
            strength = min(1.0, log10p / 10.0)
            reasons.append(
                _reason(
                    "ring_lockstep",
                    strength,
                    pairs=int(lock.sum()),
                    window=self.window_days,
                    most=int(ties.lockstep[lock].max()),
                    log10p=np.floor(log10p),
                )
            )
            evidence.append(strength)
        text = inside & (ties.text_pairs > 0)
        if text.any():
            reasons.append(_reason("ring_near_duplicate_text", 0.8, pairs=int(text.sum())))
            evidence.append(0.8)
        establishment = np.asarray(cols.establishment, dtype=np.int64)
        est_codes = np.unique(establishment[establishment >= 0])
        block_reviews, lift = self._lift(core, targets)
        strength = float(np.clip(np.log10(max(lift, 1.0)) / 3.0, 0.0, 0.6))
        reasons.append(
            _reason(
                "ring_dense_block",
                strength,
                members=len(core),
                reviews=block_reviews,
                establishments=len(targets),
                lift=lift,
            )
        )
        evidence.append(strength)
        age_days = (
            np.asarray(cols.created_at, dtype=np.float64)[rows]
            - np.asarray(cols.account_created_at, dtype=np.float64)[rows]
        ) / SECONDS_PER_DAY
        reviewer_rows = np.searchsorted(self.reviewers_, np.asarray(cols.reviewer)[rows])
        first_age = np.full(len(self.reviewers_), np.inf)
        np.minimum.at(first_age, reviewer_rows, np.nan_to_num(age_days, nan=np.inf))
        new = int((first_age[core] < self.new_account_days).sum())
        if new:
            share = new / len(core)
            reasons.append(
                _reason(
                    "ring_new_accounts",
                    0.3 * share,
                    new=new,
                    members=len(core),
                    days=self.new_account_days,
                )
            )
            evidence.append(0.3 * share)
        score = 1.0 - float(np.prod([1.0 - e for e in evidence]))
        reasons.sort(key=lambda r: -r.score)
        return Ring(
            members=self.reviewers_[core],
            reviews=rows,
            establishments=est_codes[targets],
            score=score,
            reasons=reasons,
        )


def _edge_matrix(ties: Ties, edge: np.ndarray, n_rev: int) -> sparse.csr_matrix:
    """Symmetric matrix with a 1 for each tie that is an edge."""
    mask = sparse.coo_matrix(
        (np.ones(int(edge.sum())), (ties.a[edge], ties.b[edge])), shape=(n_rev, n_rev)
    ).tocsr()
    return mask + mask.T


def _restrict(weights: sparse.csr_matrix, keep: np.ndarray) -> sparse.csr_matrix:
    """``weights`` with only the rows and columns in ``keep``."""
    diagonal = sparse.diags(keep.astype(np.float64))
    return (diagonal @ weights @ diagonal).tocsr()
