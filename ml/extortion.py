"""Threat reports <-> reviews: linkage, extortion score, serial extortionists, owner credibility.

An owner reports a threat ("refund me or I post a 1-star review"); this module
finds the reviews by the guest named in the report (exact hashed identifiers,
or a fuzzy name within a time window around the report), scores them with the
rating and the text, groups reports of one guest across establishments and
partners, and weighs every report by its owner's track record, so that the
report form cannot be used to bury honest criticism.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ml.arrays import sorted_unique
from ml.features import SECONDS_PER_DAY, ReviewColumns
from ml.fusion import Reason
from ml.text import Cue, extortion_cues, normalize

__all__ = [
    "CORROBORATION_CODES",
    "EXTORTION_REASONS",
    "HOLD_DECISION_CODES",
    "METHOD_BITS",
    "Evidence",
    "ExtortionScores",
    "Links",
    "ReviewGuests",
    "SerialGroups",
    "ThreatReports",
    "link_reports_to_reviews",
    "owner_credibility",
    "score_extortion",
    "serial_extortionists",
]


@dataclass(frozen=True)
class ThreatReports:
    """One row per threat report; arrays of length m.

    Identifier columns are int64 codes from the same factorisation as the
    review side (hashed email, booking reference; ``handle`` is the reviewer
    code the owner's "reviewer handle" resolves to), -1 where unknown.
    """

    establishment: np.ndarray  # int64
    received_at: np.ndarray  # float64 POSIX seconds
    owner: np.ndarray | None = None  # int64 code of the reporting owner
    email: np.ndarray | None = None
    booking_ref: np.ndarray | None = None
    handle: np.ndarray | None = None
    name: Sequence[str] | None = None  # guest name as the owner wrote it, "" unknown
    partner: np.ndarray | None = None  # int64 partner code
    message_text: Sequence[str] | None = None  # the threatening message, as reported
    # float64 POSIX seconds the owner filed the report (``received_at`` is the
    # owner's own claim of when the threat came); None or NaN: unknown.
    filed_at: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.establishment)


@dataclass(frozen=True)
class ReviewGuests:
    """Guest identifiers of each review that ``ReviewColumns`` does not carry (same rows)."""

    booking_ref: np.ndarray | None = None  # int64 codes, -1 unknown
    name: Sequence[str] | None = None  # reviewer display name, "" unknown
    handle: np.ndarray | None = None  # int64; defaults to ``ReviewColumns.reviewer``
    partner: np.ndarray | None = None  # int64 partner code


#: Bit of each linkage method in ``Links.method``.
METHOD_BITS: dict[str, int] = {"email": 1, "booking_ref": 2, "handle": 4, "name": 8}


@dataclass(frozen=True)
class Links:
    """Report-review pairs; one row per pair, sorted by (report, review)."""

    report: np.ndarray  # int64 report row
    review: np.ndarray  # int64 review row
    method: np.ndarray  # int64 OR of METHOD_BITS that matched
    name_score: np.ndarray  # float64 0..100, NaN where names were not compared
    delay_days: np.ndarray  # float64 review time minus report time, days

    def __len__(self) -> int:
        return len(self.report)

    def methods(self, k: int) -> list[str]:
        """Names of the methods that matched link ``k``."""
        return [name for name, bit in METHOD_BITS.items() if int(self.method[k]) & bit]


def _codes(values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, -1, dtype=np.int64)
    return np.asarray(values, dtype=np.int64)


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi): (range index, position) of every element, vectorised."""
    count = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), count)
    position = np.repeat(lo, count) + (
        np.arange(count.sum(), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    )
    return owner, position


def _join_exact(
    rep_est: np.ndarray, rep_key: np.ndarray, rev_est: np.ndarray, rev_key: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (report, review) with the same establishment and the same known key."""
    rep = np.flatnonzero((rep_key >= 0) & (rep_est >= 0))
    rev = np.flatnonzero((rev_key >= 0) & (rev_est >= 0))
    if len(rep) == 0 or len(rev) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    _, key = np.unique(np.concatenate((rep_key[rep], rev_key[rev])), return_inverse=True)
    _, est = np.unique(np.concatenate((rep_est[rep], rev_est[rev])), return_inverse=True)
    composite = est.astype(np.int64) * (int(key.max()) + 1) + key
    rep_c, rev_c = composite[: len(rep)], composite[len(rep) :]
    order = np.argsort(rev_c, kind="stable")
    sorted_c = rev_c[order]
    lo = np.searchsorted(sorted_c, rep_c, side="left")
    hi = np.searchsorted(sorted_c, rep_c, side="right")
    which, position = _expand(lo, hi)
    return rep[which], rev[order[position]]


def _join_window(
    rep_est: np.ndarray,
    rep_day: np.ndarray,
    rev_est: np.ndarray,
    rev_day: np.ndarray,
    before: float,
    after: float,
    rep_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (report, review) of the same establishment with review day in
    [report day - before, report day + after], for the reports in ``rep_rows``."""
    rev = np.flatnonzero((rev_est >= 0) & ~np.isnan(rev_day))
    rep = rep_rows[(rep_est[rep_rows] >= 0) & ~np.isnan(rep_day[rep_rows])]
    if len(rep) == 0 or len(rev) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    _, est = np.unique(np.concatenate((rep_est[rep], rev_est[rev])), return_inverse=True)
    # Days since the earliest event keep the composite key exact in float64.
    origin = min(np.nanmin(rev_day[rev]), np.nanmin(rep_day[rep])) - before - 1.0
    width = max(np.nanmax(rev_day[rev]), np.nanmax(rep_day[rep])) - origin + after + 2.0
    rev_key = est[len(rep) :] * width + (rev_day[rev] - origin)
    rep_key = est[: len(rep)] * width + (rep_day[rep] - origin)
    order = np.argsort(rev_key, kind="stable")
    sorted_key = rev_key[order]
    lo = np.searchsorted(sorted_key, rep_key - before, side="left")
    hi = np.searchsorted(sorted_key, rep_key + after, side="right")
    which, position = _expand(lo, hi)
    return rep[which], rev[order[position]]


_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya i yi ye g".split(),  # noqa: SIM905
        strict=True,
    )
)
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψω",
        "a v g d e z i th i k l m n x o p r s s t y f ch ps o".split(),  # noqa: SIM905
        strict=True,
    )
)
_GREEK_DIGRAPHS = tuple(
    zip("ου αι ει οι γγ μπ ντ".split(), "ou ai ei oi ng mp nt".split(), strict=True)  # noqa: RUF001, SIM905
)
_OTHER_LATIN = {
    "ß": "ss",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "\u0131": "i",  # dotless i
}
_TRANSLIT = str.maketrans(
    {k: ("" if v == "_" else v) for k, v in {**_CYRILLIC, **_GREEK, **_OTHER_LATIN}.items()}
)
# Spelling variants of one sound across transliterations (French "ou", German
# "ue" for "ü", "y"/"i", "kh"/"h", doubled letters), applied to both names.
_SKELETON = tuple(
    (re.compile(a), b)
    for a, b in (
        (r"ou", "u"),
        (r"ue", "u"),
        (r"ae", "a"),
        (r"oe", "o"),
        (r"y", "i"),
        (r"ph", "f"),
        (r"kh", "h"),
        (r"th", "t"),
        (r"ck", "k"),
        (r"w", "v"),
        (r"(\w)\1", r"\1"),
        (r"ii", "i"),
        (r"ij", "i"),
    )
)
#: Titles an owner may put before a name; dropped (one-letter "M." stays: an initial).
_HONORIFICS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "mme",
        "mlle",
        "monsieur",
        "madame",
        "mademoiselle",
        "sir",
        "herr",
        "frau",
    }
)


def _latin(name: str) -> str:
    """Lower-case Latin letters of a name in any of Latin, Cyrillic or Greek script:
    accents stripped, "ß" -> "ss", "ø" -> "o", "Дмитрий" -> "dmitriy",
    "Παπαδόπουλος" -> "papadopoulos"."""
    text = unicodedata.normalize("NFD", name.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    for a, b in _GREEK_DIGRAPHS:
        text = text.replace(a, b)
    return normalize(text.translate(_TRANSLIT))


def _name_key(name: str) -> str:
    """Sorted name tokens, transliterated, titles dropped, spelling variants merged:
    "DUPONT, Hélène" -> "dupont helene"; "Sergueï Kouznetsov" and "Sergey Kuznetsov"
    come within one letter."""
    tokens = [t for t in _latin(name).split() if t not in _HONORIFICS]
    out = []
    for token in tokens:
        if len(token) > 1:
            for pattern, repl in _SKELETON:
                token = pattern.sub(repl, token)
        out.append(token)
    return " ".join(sorted(out))


def _initials_match(left: str, right: str) -> bool:
    """Same number of words; each word of one name is an initial of a word of the
    other, or close to it (rapidfuzz ratio >= 80: "Marford" for "Mraford"); at
    least one word of three letters or more matched in full."""
    a, b = left.split(), right.split()
    if len(a) != len(b) or len(a) < 2 or not any(len(t) == 1 for t in a + b):
        return False
    used = [False] * len(b)
    full = 0
    for t in sorted(a, key=len, reverse=True):
        for j, u in enumerate(b):
            if used[j]:
                continue
            if len(t) > 1 and len(u) > 1 and fuzz.ratio(t, u) >= 80:
                full += min(len(t), len(u)) >= 3
            elif not ((len(t) == 1) != (len(u) == 1) and t[0] == u[0]):
                continue
            used[j] = True
            break
        else:
            return False
    return full >= 1


def link_reports_to_reviews(
    reports: ThreatReports,
    reviews: ReviewColumns,
    *,
    guests: ReviewGuests | None = None,
    days_after: float = 30.0,
    days_before: float = 3.0,
    name_threshold: float = 85.0,
) -> Links:
    """Reviews of each report's establishment written by the reported guest.

    A review links to a report when both concern the same establishment, the
    review was written between ``days_before`` days before and ``days_after``
    days after the report (unknown review time: no link), and the guest matches
    by hashed email, booking reference or reviewer handle, or by a fuzzy name
    match (rapidfuzz ``token_sort_ratio`` of normalised names >= ``name_threshold``
    out of 100; an initial standing for a word, "J. Martin" for "Jean Martin",
    scores 90). Joins are sort-and-search on columns; only name candidates
    inside the window are compared.
    """
    guests = guests or ReviewGuests()
    m, n = len(reports), len(reviews)
    rep_est = _codes(reports.establishment, m)
    rev_est = _codes(reviews.establishment, n)
    rep_day = np.asarray(reports.received_at, dtype=np.float64) / SECONDS_PER_DAY
    rev_day = np.asarray(reviews.created_at, dtype=np.float64) / SECONDS_PER_DAY

    parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []
    exact = (
        ("email", reports.email, reviews.email),
        ("booking_ref", reports.booking_ref, guests.booking_ref),
        ("handle", reports.handle, reviews.reviewer if guests.handle is None else guests.handle),
    )
    for method, rep_key, rev_key in exact:
        if rep_key is None or rev_key is None:
            continue
        rep, rev = _join_exact(rep_est, _codes(rep_key, m), rev_est, _codes(rev_key, n))
        delay = rev_day[rev] - rep_day[rep]
        keep = (delay >= -days_before) & (delay <= days_after)
        parts.append((rep[keep], rev[keep], METHOD_BITS[method], np.full(keep.sum(), np.nan)))

    if reports.name is not None and guests.name is not None and m and n:
        rep_keys = [_name_key(s or "") for s in reports.name]
        named = np.flatnonzero([len(k) >= 3 for k in rep_keys])
        rep, rev = _join_window(rep_est, rep_day, rev_est, rev_day, days_before, days_after, named)
        if len(rep):
            rev_keys = {int(r): _name_key(guests.name[r] or "") for r in np.unique(rev)}
            scores = process.cpdist(
                [rep_keys[i] for i in rep.tolist()],
                [rev_keys[i] for i in rev.tolist()],
                scorer=fuzz.token_sort_ratio,
            ).astype(np.float64)
            # Display names such as "J. Martin" or "Jean M.": an initial standing
            # for a word of the other name counts as that word (scored 90).
            maybe = np.flatnonzero(scores < name_threshold)
            for k in maybe.tolist():
                if _initials_match(rep_keys[int(rep[k])], rev_keys[int(rev[k])]):
                    scores[k] = 90.0
            keep = scores >= name_threshold
            parts.append((rep[keep], rev[keep], METHOD_BITS["name"], scores[keep]))

    if not parts or sum(len(p[0]) for p in parts) == 0:
        empty = np.empty(0, np.int64)
        return Links(empty, empty, empty, np.empty(0), np.empty(0))
    rep = np.concatenate([p[0] for p in parts])
    rev = np.concatenate([p[1] for p in parts])
    bits = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
    score = np.concatenate([p[3] for p in parts])
    # One row per (report, review): OR the methods, keep the best name score.
    pair = rep * np.int64(max(n, 1)) + rev
    order = np.lexsort((np.nan_to_num(-score, nan=1.0), pair))
    pair, bits, score = pair[order], bits[order], score[order]
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    method = np.bitwise_or.reduceat(bits, starts)
    name_score = np.fmax.reduceat(score, starts)
    rep, rev = pair[starts] // max(n, 1), pair[starts] % max(n, 1)
    return Links(rep, rev, method, name_score, rev_day[rev] - rep_day[rep])


def owner_credibility(
    confirmed: np.ndarray, dismissed: np.ndarray, *, prior: tuple[float, float] = (2.0, 1.0)
) -> np.ndarray:
    """Posterior mean credibility of owners from their past report outcomes.

    Beta(``prior``) over "a report of this owner is confirmed", updated with
    counts of confirmed and dismissed reports: ``(a + confirmed) / (a + b +
    confirmed + dismissed)``. A new owner starts at a/(a+b) = 0.67; two
    dismissals and no confirmation bring it to 0.40.
    """
    a, b = prior
    confirmed = np.asarray(confirmed, dtype=np.float64)
    dismissed = np.asarray(dismissed, dtype=np.float64)
    return (a + confirmed) / (a + b + confirmed + dismissed)


@dataclass(frozen=True)
class SerialGroups:
    """Reports grouped by guest identity across establishments and partners."""

    group: np.ndarray  # int64 per report, -1 when the guest threatened one establishment only
    establishments: np.ndarray  # int64 per report: distinct establishments in its group (1 if none)
    partners: np.ndarray  # int64 per report: distinct partners in its group (1 if none)


def serial_extortionists(
    reports: ThreatReports,
    *,
    links: Links | None = None,
    reviews: ReviewColumns | None = None,
    guests: ReviewGuests | None = None,
    join_on_name: bool = True,
    max_name_reviewers: int = 2,
    min_establishments: int = 2,
) -> SerialGroups:
    """Group reports naming the same guest; a group spans >= ``min_establishments``.

    Two reports share a guest when they share a hashed email or a handle, when
    their links reach the same reviewer or a reviewer with the same email, or
    (``join_on_name``) the same normalised full name of two or more words. With
    ``reviews`` and ``guests.name``, a name that more than ``max_name_reviewers``
    distinct reviewers carry is too common to join on ("John Smith").
    Groups are connected components of the report-identity graph, so identity
    chains (email at one partner, name at another) join into one group.
    """
    m = len(reports)
    edges_rep: list[np.ndarray] = []
    edges_key: list[np.ndarray] = []

    def add(kind: int, rep: np.ndarray, key: np.ndarray) -> None:
        keep = key >= 0
        edges_rep.append(rep[keep])
        edges_key.append(np.stack((np.full(keep.sum(), kind), key[keep]), axis=1))

    rows = np.arange(m, dtype=np.int64)
    add(0, rows, _codes(reports.email, m))
    add(1, rows, _codes(reports.handle, m))
    if links is not None and reviews is not None and len(links):
        exact = (links.method & ~METHOD_BITS["name"]) != 0
        linked_rev = links.review[exact]
        add(1, links.report[exact], np.asarray(reviews.reviewer, dtype=np.int64)[linked_rev])
        if reviews.email is not None:
            add(0, links.report[exact], np.asarray(reviews.email, dtype=np.int64)[linked_rev])
    if join_on_name and reports.name is not None:
        keys = [_name_key(s or "") for s in reports.name]
        full = [k if len(k.split()) >= 2 else "" for k in keys]
        if reviews is not None and guests is not None and guests.name is not None:
            common = _common_names(
                guests.name, np.asarray(reviews.reviewer, dtype=np.int64), max_name_reviewers
            )
            full = ["" if k in common else k for k in full]
        _, code = np.unique(np.array(full, dtype=object), return_inverse=True)
        code = np.where(np.array([bool(k) for k in full]), code, -1).astype(np.int64)
        add(2, rows, code)

    rep = np.concatenate(edges_rep) if edges_rep else np.empty(0, np.int64)
    kv = np.concatenate(edges_key) if edges_key else np.empty((0, 2), np.int64)
    if len(rep):
        _, key_node = np.unique(kv, axis=0, return_inverse=True)
        key_node = key_node.reshape(-1) + m
        size = m + int(key_node.max()) + 1
    else:
        key_node, size = np.empty(0, np.int64), m
    graph = coo_matrix((np.ones(len(rep), np.int8), (rep, key_node)), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    component = component[:m]
    est = _codes(reports.establishment, m)
    partner = np.zeros(m, np.int64) if reports.partner is None else _codes(reports.partner, m)
    n_est = _distinct_per(component, est)
    n_partner = _distinct_per(component, partner)
    serial = n_est >= min_establishments
    _, group = np.unique(np.where(serial, component, -1), return_inverse=True)
    group = np.where(serial, group - (0 if serial.all() else 1), -1).astype(np.int64)
    return SerialGroups(group, np.where(serial, n_est, 1), np.where(serial, n_partner, 1))


def _common_names(names: Sequence[str], reviewer: np.ndarray, most: int) -> set[str]:
    """Name keys carried by more than ``most`` distinct reviewers."""
    keys = np.array([_name_key(s or "") for s in names], dtype=object)
    _, key_code = np.unique(keys, return_inverse=True)
    pairs = np.unique(np.stack((key_code, reviewer), axis=1), axis=0)
    counts = np.bincount(pairs[:, 0], minlength=int(key_code.max()) + 1 if len(keys) else 0)
    _, first = np.unique(key_code, return_index=True)
    return {keys[first[k]] for k in np.flatnonzero(counts > most).tolist()}


def _distinct_per(component: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per row, the number of distinct ``value`` in its component."""
    if len(component) == 0:
        return np.zeros(0, np.int64)
    _, v = np.unique(value, return_inverse=True)
    pairs = sorted_unique(component.astype(np.int64) * (int(v.max()) + 1) + v)
    counts = np.bincount(pairs // (int(v.max()) + 1), minlength=int(component.max()) + 1)
    return counts[component].astype(np.int64)


#: The codes of the reasons this module gives (values named in each ``_reason`` call;
#: ``methods`` is a list of METHOD_BITS names, ``delay_days`` review time minus report time).
EXTORTION_REASONS: tuple[str, ...] = (
    "report_identity_match", "report_name_match", "low_rating_after_demand", "threat_in_report",
    "threat_in_review", "audience_in_review", "serial_extortionist", "low_credibility_report",
)

# Strength of text cues, by the strongest code found.
_CUE_STRENGTH = {
    "demand_with_threat": 0.9,
    "conditional_threat": 0.9,
    "review_as_leverage": 0.8,
    "audience_leverage": 0.4,
}


def cue_strength(cues: Sequence[Sequence[Cue]]) -> np.ndarray:
    """Per text, the strength in [0, 1] of its strongest extortion cue (0 when none)."""
    return np.array(
        [max((_CUE_STRENGTH[c.code] for c in row), default=0.0) for row in cues], dtype=np.float64
    )


#: Evidence that corroborates a report, that its owner cannot make up alone, and
#: its weight in ``corroboration = 1 - prod(1 - weight)`` (a review's own cue
#: counts with its cue strength instead).
CORROBORATION_CODES: dict[str, float] = {
    # The review itself demands or threatens ("refund me or this stays").
    "review_threat": 1.0,
    # Other establishments (other owners) reported the same guest.
    "serial_guest": 0.8,
    # The owner's past reports were confirmed by moderators (credibility >=
    # trusted_credibility: 0.8 is two confirmations and no dismissal under the
    # Beta(2, 1) prior; one confirmation, 0.75, is thin evidence).
    "owner_track_record": 0.7,
    # The reporter's identifiers match exactly, the review came after the
    # reported message within days, the message describes a threat (or none was
    # transcribed: phone, in person), and the owner has no unanswered dismissal.
    "identity_and_timing": 0.6,
    # The same with a near-certain name instead of an identifier.
    "name_and_timing": 0.5,
    # The report names a booking and the review by that guest carries none.
    "stay_not_verified": 0.5,
    # The review's account was created after the reported threat (dated as
    # honestly as timing must be: filed before the review, or promptly).
    "account_after_threat": 0.5,
}

#: Why a linked review was, or was not, held by its reports.
HOLD_DECISION_CODES: tuple[str, ...] = (
    "held_threat_in_review",  # its own text threatens: held whatever the report
    "held_corroborated_report",  # a report, corroborated (see CORROBORATION_CODES)
    "not_held_uncorroborated_report",  # nothing but the owner's word: stays published
    "not_held_discredited_owner",  # the owner's reports keep being dismissed
    "not_held_rating",  # a linked review that is not low enough to be the threat
    "not_held_weak_link",  # corroborated, but the link itself is too weak
)


@dataclass(frozen=True)
class Evidence:
    """A language-free reason: a stable code, a score in [0, 1], its raw values.

    ``apps/`` turns ``code`` and ``values`` into the English and French sentence.
    """

    code: str
    score: float
    values: dict


@dataclass(frozen=True)
class ExtortionScores:
    """Per review: extortion score, hold flag and reasons; per link: its score."""

    score: np.ndarray  # float64 per review in [0, 1]
    hold: np.ndarray  # bool per review: hold for a moderator (never remove automatically)
    # float64 per review: best credibility-weighted link (fusion extra "extortion_report")
    report_strength: np.ndarray
    text_strength: np.ndarray  # float64 per review: cue strength (fusion extra "extortion_text")
    best_report: np.ndarray  # int64 per review: the report behind report_strength, -1 none
    link_score: np.ndarray  # float64 per link of the input ``Links``
    reasons: list[list[Reason]]  # per review, strongest first
    # float64 per review in [0, 1]: how far evidence the owner cannot make up
    # corroborates the best linked report (0 when unlinked); see ``score_extortion``.
    corroboration: np.ndarray | None = None
    # float64 per link: the same, per link of the input ``Links``.
    link_corroboration: np.ndarray | None = None
    # per review: why it was or was not held (``HOLD_DECISION_CODES`` then the
    # ``CORROBORATION_CODES`` that fired), strongest first; [] when unlinked and
    # no threat in its text.
    hold_reasons: list[list[Evidence]] | None = None


def _reason(code: str, score: float, **values: object) -> Reason:
    assert code in EXTORTION_REASONS, code
    return Reason(code, float(score), values)


def score_extortion(
    reports: ThreatReports,
    reviews: ReviewColumns,
    links: Links,
    *,
    credibility: np.ndarray | None = None,
    serial: SerialGroups | None = None,
    review_cues: Sequence[Sequence[Cue]] | None = None,
    report_cues: Sequence[Sequence[Cue]] | None = None,
    low_rating: float = 2.0,
    min_credibility: float = 0.5,
    hold_threshold: float = 0.5,
    guests: ReviewGuests | None = None,
    clean_credibility: float = 0.66,
    trusted_credibility: float = 0.8,
    timing_days: float = 15.0,
    name_identity: float = 90.0,
    min_corroboration: float = 0.5,
    prompt_days: float = 2.0,
) -> ExtortionScores:
    """Extortion score per review from its links to reports and its own text.

    Per link, ``strength = identity x timing x rating x report text x serial``:
    identity 1 for an exact identifier, 0.7-1 for a name by its score; timing 1
    after the report; before it (the review may be what provoked the report)
    0.85 when the reported message holds a threat cue, 0.6 when the report has
    no message (threats by phone or in person come without a transcript), 0.45
    when its message describes no threat; rating
    1 at or below ``low_rating``, 0.6
    at 3 stars or unknown, 0.15 above; 0.85 when the reported message has no
    threat cue; a serial guest lifts it by half of what is missing. Then the
    owner's ``credibility`` (per report, see ``owner_credibility``; None: all
    new owners, 2/3) weighs it: 1 at or above ``min_credibility``, below that at most
    0.4 (< ``hold_threshold``), so a doubtful report never holds by itself.
    The review's own cues (``review_cues``; computed from the text when None)
    add independent evidence: ``score = 1 - (1 - report) (1 - text)``.

    A report is the word of an interested party, so it holds a review only when
    evidence the owner cannot make up alone corroborates it. Per link,
    ``corroboration = 1 - prod(1 - w)`` over the ``CORROBORATION_CODES`` that
    fire: the review's own cue (weight: its cue strength); a serial guest; an
    owner with ``credibility >= trusted_credibility`` (confirmed reports); an
    exact identifier (or a name scoring >= ``name_identity``) with the review
    written 0 to ``timing_days`` days after the reported message, a message that
    describes a threat or none at all, and an owner whose record is clean
    (``credibility >= clean_credibility``: a new owner, or as many confirmations
    as dismissals beyond the prior); a review without booking when the report
    names one (``guests.booking_ref`` or ``reviews.verified_stay``); an account
    created after the reported message. When ``reports.filed_at`` is known, the
    timing only counts for a report filed before the review was written or within
    ``prompt_days`` of the message it reports: a threat "received" before a
    review but reported days after it could have been written to fit it. ``hold`` is then: the review's own cue
    strength >= 0.8 (an explicit demand with a threat), or a link with rating
    <= ``low_rating``, owner credibility >= ``min_credibility``,
    ``corroboration >= min_corroboration`` and ``link_score >= hold_threshold``.
    A linked review that is not held stays published; the caller still opens a
    case for a moderator. ``hold_reasons`` says why, per review.

    Parameters
    ----------
    reports, reviews : ThreatReports of m rows, ReviewColumns of n rows.
    links : Links of k rows, from ``link_reports_to_reviews``.
    credibility : (m,) float64 or None (all owners new, 2/3).
    serial : SerialGroups or None.
    guests : ReviewGuests or None; its ``booking_ref`` shows unverified stays.

    Returns
    -------
    ExtortionScores with per-review (n,) arrays ``score``, ``hold``,
    ``corroboration`` and per-link (k,) ``link_score``, ``link_corroboration``.
    """
    n, m = len(reviews), len(reports)
    if review_cues is None:
        review_cues = (
            extortion_cues(reviews.text) if reviews.text is not None else [[] for _ in range(n)]
        )
    if report_cues is None:
        report_cues = (
            extortion_cues(reports.message_text)
            if reports.message_text is not None
            else [[] for _ in range(m)]
        )
    text_strength = cue_strength(review_cues)
    report_has_cue = cue_strength(report_cues) >= 0.8
    cred = (
        np.full(m, 2.0 / 3.0) if credibility is None else np.asarray(credibility, dtype=np.float64)
    )
    weight = np.where(cred >= min_credibility, 1.0, 0.4 * np.clip(cred / min_credibility, 0, 1))

    rating = np.asarray(reviews.rating, dtype=np.float64)[links.review]
    exact = (links.method & ~METHOD_BITS["name"]) != 0
    identity = np.where(
        exact, 1.0, 0.7 + 0.3 * np.clip((np.nan_to_num(links.name_score) - 85.0) / 15.0, 0, 1)
    )
    # A review written before the report may be what provoked it (the report
    # form used against a critic), so it then needs threat language in the
    # reported message to count fully.
    silent = np.array(
        [not (t or "").strip() for t in (reports.message_text or [""] * m)], dtype=bool
    )
    timing = np.where(
        links.delay_days >= 0,
        1.0,
        np.where(report_has_cue[links.report], 0.85, np.where(silent[links.report], 0.6, 0.45)),
    )
    rating_factor = np.where(
        np.isnan(rating), 0.6, np.where(rating <= low_rating, 1.0, np.where(rating <= 3, 0.6, 0.15))
    )
    strength = identity * timing * rating_factor * np.where(report_has_cue[links.report], 1.0, 0.85)
    if serial is not None:
        is_serial = serial.group[links.report] >= 0
        strength = np.where(is_serial, 1 - 0.5 * (1 - strength), strength)
    link_score = strength * weight[links.report]

    evidence = _corroborating_evidence(
        reports,
        reviews,
        links,
        guests,
        text_strength,
        cred,
        report_has_cue,
        silent,
        serial,
        clean_credibility,
        trusted_credibility,
        timing_days,
        name_identity,
        prompt_days,
    )
    link_corroboration = 1.0 - np.prod(1.0 - evidence, axis=1)
    link_low = rating <= low_rating
    link_credible = cred[links.report] >= min_credibility
    link_holds = (
        link_low
        & link_credible
        & (link_corroboration >= min_corroboration)
        & (link_score >= hold_threshold)
    )

    report_strength = np.zeros(n)
    corroboration = np.zeros(n)
    best_link = np.full(n, -1, dtype=np.int64)
    if len(links):
        # Best link per review: one that holds first, then the strongest; sort by
        # (review, -holds, -score), take each review's first.
        order = np.lexsort((-link_score, ~link_holds, links.review))
        first = order[np.r_[True, links.review[order][1:] != links.review[order][:-1]]]
        report_strength[links.review[first]] = link_score[first]
        corroboration[links.review[first]] = link_corroboration[first]
        best_link[links.review[first]] = first
    score = 1.0 - (1.0 - report_strength) * (1.0 - text_strength)
    threat_holds = text_strength >= 0.8
    report_holds = np.zeros(n, dtype=bool)
    report_holds[links.review[link_holds]] = True
    hold = threat_holds | report_holds

    reasons: list[list[Reason]] = [[] for _ in range(n)]
    for r in np.flatnonzero((best_link >= 0) | (text_strength > 0)).tolist():
        reasons[r] = _review_reasons(
            r,
            int(best_link[r]),
            links,
            reports,
            reviews,
            serial,
            cred,
            min_credibility,
            link_score,
            report_has_cue,
            review_cues[r],
            low_rating,
        )
    best_report = np.full(n, -1, dtype=np.int64)
    if len(links):
        best_report = np.where(best_link >= 0, links.report[np.maximum(best_link, 0)], -1)
    hold_reasons = _hold_reasons(
        n,
        best_link,
        links,
        evidence,
        link_corroboration,
        link_low,
        link_credible,
        link_holds,
        threat_holds,
        text_strength,
        cred,
        min_corroboration,
    )
    return ExtortionScores(
        score,
        hold,
        report_strength,
        text_strength,
        best_report,
        link_score,
        reasons,
        corroboration,
        link_corroboration,
        hold_reasons,
    )


def _corroborating_evidence(
    reports: ThreatReports,
    reviews: ReviewColumns,
    links: Links,
    guests: ReviewGuests | None,
    text_strength: np.ndarray,
    cred: np.ndarray,
    report_has_cue: np.ndarray,
    silent: np.ndarray,
    serial: SerialGroups | None,
    clean_credibility: float,
    trusted_credibility: float,
    timing_days: float,
    name_identity: float,
    prompt_days: float,
) -> np.ndarray:
    """Per link, the weight of each ``CORROBORATION_CODES`` entry that fired.

    Returns
    -------
    (k, len(CORROBORATION_CODES)) float64 in [0, 1], columns in catalogue order.
    """
    k = len(links)
    rep, rev = links.report, links.review
    out = np.zeros((k, len(CORROBORATION_CODES)))
    col = {code: j for j, code in enumerate(CORROBORATION_CODES)}
    out[:, col["review_threat"]] = text_strength[rev]
    if serial is not None:
        out[:, col["serial_guest"]] = np.where(
            serial.group[rep] >= 0, CORROBORATION_CODES["serial_guest"], 0.0
        )
    out[:, col["owner_track_record"]] = np.where(
        cred[rep] >= trusted_credibility, CORROBORATION_CODES["owner_track_record"], 0.0
    )
    # Timing is measured from the reported message (the threat), not from the
    # filing: a guest posts within days of a refused demand.
    # Both timing and "account created after the threat" rest on the date the
    # owner gives the threat: they count only when the owner committed to it
    # before the review existed, or reported it promptly. An owner who reads a
    # review and then files a threat dated just before it proves nothing.
    dated_honestly = np.ones(k, dtype=bool)
    if reports.filed_at is not None:
        filed = np.asarray(reports.filed_at, dtype=np.float64)[rep]
        received = np.asarray(reports.received_at, dtype=np.float64)[rep]
        written = np.asarray(reviews.created_at, dtype=np.float64)[rev]
        committed = filed <= written  # filed before the review existed
        prompt = filed - received <= prompt_days * SECONDS_PER_DAY
        dated_honestly = committed | prompt | np.isnan(filed)
    timely = (
        (links.delay_days >= 0)
        & (links.delay_days <= timing_days)
        & (report_has_cue[rep] | silent[rep])
        & (cred[rep] >= clean_credibility)
        & dated_honestly
    )
    exact = (links.method & ~METHOD_BITS["name"]) != 0
    named = np.nan_to_num(links.name_score) >= name_identity
    out[:, col["identity_and_timing"]] = np.where(
        timely & exact, CORROBORATION_CODES["identity_and_timing"], 0.0
    )
    out[:, col["name_and_timing"]] = np.where(
        timely & ~exact & named, CORROBORATION_CODES["name_and_timing"], 0.0
    )
    if reports.booking_ref is not None:
        names_booking = _codes(reports.booking_ref, len(reports))[rep] >= 0
        if guests is not None and guests.booking_ref is not None:
            unverified = _codes(guests.booking_ref, len(reviews))[rev] < 0
        elif reviews.verified_stay is not None:
            unverified = ~np.asarray(reviews.verified_stay, dtype=bool)[rev]
        else:
            unverified = np.zeros(k, dtype=bool)
        out[:, col["stay_not_verified"]] = np.where(
            names_booking & unverified, CORROBORATION_CODES["stay_not_verified"], 0.0
        )
    account = np.asarray(reviews.account_created_at, dtype=np.float64)[rev]
    received = np.asarray(reports.received_at, dtype=np.float64)[rep]
    out[:, col["account_after_threat"]] = np.where(
        (account >= received) & dated_honestly, CORROBORATION_CODES["account_after_threat"], 0.0
    )
    return out


def _hold_reasons(
    n: int,
    best_link: np.ndarray,
    links: Links,
    evidence: np.ndarray,
    link_corroboration: np.ndarray,
    link_low: np.ndarray,
    link_credible: np.ndarray,
    link_holds: np.ndarray,
    threat_holds: np.ndarray,
    text_strength: np.ndarray,
    cred: np.ndarray,
    min_corroboration: float,
) -> list[list[Evidence]]:
    """Per review: the hold decision code first, then the corroboration that fired."""
    out: list[list[Evidence]] = [[] for _ in range(n)]
    codes = list(CORROBORATION_CODES)
    for r in np.flatnonzero((best_link >= 0) | threat_holds).tolist():
        k = int(best_link[r])
        if k < 0:
            out[r].append(
                Evidence(
                    "held_threat_in_review",
                    float(text_strength[r]),
                    {"cue_strength": float(text_strength[r])},
                )
            )
            continue
        rep = int(links.report[k])
        values = {
            "report": rep,
            "corroboration": round(float(link_corroboration[k]), 4),
            "credibility": round(float(cred[rep]), 4),
            "delay_days": round(float(links.delay_days[k]), 2),
            "methods": links.methods(k),
        }
        if link_holds[k]:
            decision = "held_corroborated_report"
        elif threat_holds[r]:
            decision = "held_threat_in_review"
        elif not link_credible[k]:
            decision = "not_held_discredited_owner"
        elif not link_low[k]:
            decision = "not_held_rating"
        elif link_corroboration[k] < min_corroboration:
            decision = "not_held_uncorroborated_report"
        else:
            decision = "not_held_weak_link"
        out[r].append(Evidence(decision, float(link_corroboration[k]), values))
        fired = np.flatnonzero(evidence[k] > 0)
        for j in fired[np.argsort(-evidence[k, fired], kind="stable")].tolist():
            out[r].append(Evidence(codes[j], float(evidence[k, j]), {}))
    return out


def _review_reasons(
    r: int,
    k: int,
    links: Links,
    reports: ThreatReports,
    reviews: ReviewColumns,
    serial: SerialGroups | None,
    cred: np.ndarray,
    min_credibility: float,
    link_score: np.ndarray,
    report_has_cue: np.ndarray,
    cues: Sequence[Cue],
    low_rating: float,
) -> list[Reason]:
    out: list[Reason] = []
    codes = {c.code for c in cues}
    if codes & {"demand_with_threat", "conditional_threat", "review_as_leverage"}:
        out.append(_reason("threat_in_review", 0.9))
    elif "audience_leverage" in codes:
        out.append(_reason("audience_in_review", 0.4))
    if k >= 0:
        rep = int(links.report[k])
        delay_days = round(float(links.delay_days[k]), 2)
        methods = [m for m in links.methods(k) if m != "name"]
        s = float(link_score[k])
        if methods:
            out.append(
                _reason(
                    "report_identity_match", s, methods=methods, delay_days=delay_days
                )
            )
        else:
            out.append(
                _reason(
                    "report_name_match",
                    s,
                    similarity=float(links.name_score[k]),
                    delay_days=delay_days,
                )
            )
        rating = float(reviews.rating[r])
        if rating <= low_rating:
            out.append(_reason("low_rating_after_demand", s, rating=rating))
        if report_has_cue[rep]:
            out.append(_reason("threat_in_report", s))
        if serial is not None and serial.group[rep] >= 0:
            out.append(
                _reason(
                    "serial_extortionist",
                    s,
                    establishments=int(serial.establishments[rep]),
                    partners=int(serial.partners[rep]),
                )
            )
        if cred[rep] < min_credibility:
            out.append(_reason("low_credibility_report", s, credibility=float(cred[rep])))
    out.sort(key=lambda reason: -reason.score)
    return out
