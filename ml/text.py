"""Review text: language guess (EN/FR), normalisation, near-duplicates, extortion cues.

Near-duplicates use MinHash signatures over character shingles with LSH banding,
all in numpy (one pass over the concatenated corpus, no per-text hashing loop).
Extortion cues are found over a length-preserving folded copy of the text, so
every cue carries the span of the original text to highlight: phrase patterns,
then a clause-level pass (demand, leverage and their tie in any order), then a
learned reading (ml/threat_text.py) where neither found one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ml.arrays import sorted_unique
from ml.threat_text import SENTENCE, might_threaten

__all__ = [
    "CUE_CODES",
    "Cue",
    "NearDuplicateDetector",
    "extortion_cues",
    "fold",
    "guess_language",
    "lsh_band_keys",
    "minhash_signatures",
    "near_duplicate_groups",
    "near_duplicate_pairs",
    "normalize",
    "shingle_text",
]

# --------------------------------------------------------------------------- #
# Folding and normalisation


def _build_fold_table() -> dict[int, str]:
    # One character in, one character out, so offsets in the folded text are
    # offsets in the original: casefold, strip accents, unify apostrophes and
    # the non-breaking spaces French uses in "20 000".
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x0250):
        char = chr(code)
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", char.casefold())
            if not unicodedata.combining(c)
        )
        if len(base) == 1 and base != char:
            table[code] = base
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code).lower()
    for char in "\u2019\u2018\u02bc\u00b4`":
        table[ord(char)] = "'"
    for char in "\u00a0\u202f\u2009\u2007":
        table[ord(char)] = " "
    for char in "\u2010\u2011\u2012\u2013\u2014":
        table[ord(char)] = "-"
    return table


_FOLD = _build_fold_table()
_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case ``text``, strip accents, unify apostrophes; same length as ``text``."""
    if text.isascii():  # most English reviews: str.lower is far faster than translate
        return text.lower()
    return text.translate(_FOLD)


def normalize(text: str) -> str:
    """Folded text with every run of punctuation or whitespace replaced by one space."""
    return _NON_WORD.sub(" ", fold(text)).strip()


# --------------------------------------------------------------------------- #
# Language

_EN_WORDS = frozenset(
    {
        "the",
        "and",
        "is",
        "was",
        "were",
        "we",
        "i",
        "to",
        "of",
        "it",
        "in",
        "for",
        "with",
        "this",
        "that",
        "not",
        "very",
        "but",
        "they",
        "you",
        "my",
        "our",
        "had",
        "have",
        "at",
        "on",
        "would",
        "will",
        "there",
        "are",
        "be",
        "been",
        "no",
        "room",
        "staff",
        "food",
        "from",
        "so",
        "us",
        "an",
        "if",
        "or",
        "what",
        "which",
        "their",
        "when",
        "all",
        "just",
        "really",
        "great",
        "good",
        "bad",
        "nice",
        "place",
        "hotel",
        "again",
        "never",
    }
)
_FR_WORDS = frozenset(
    {
        "le",
        "la",
        "les",
        "et",
        "est",
        "etait",
        "nous",
        "je",
        "de",
        "des",
        "du",
        "un",
        "une",
        "pour",
        "avec",
        "ce",
        "cette",
        "pas",
        "tres",
        "chambre",
        "mais",
        "ils",
        "vous",
        "mon",
        "ma",
        "mes",
        "notre",
        "etaient",
        "avons",
        "au",
        "aux",
        "sur",
        "en",
        "qui",
        "que",
        "il",
        "elle",
        "avait",
        "ont",
        "sont",
        "plus",
        "tout",
        "bien",
        "personnel",
        "accueil",
        "repas",
        "sejour",
        "nuit",
        "jamais",
        "sinon",
        "votre",
        "avis",
        "rien",
        "car",
        "donc",
    }
)


def guess_language(texts: Sequence[str]) -> list[str]:
    """``"en"``, ``"fr"`` or ``"und"`` per text, from counts of common function words."""
    out = []
    for text in texts:
        tokens = normalize(text or "").replace("'", " ").split()
        en = sum(t in _EN_WORDS for t in tokens)
        fr = sum(t in _FR_WORDS for t in tokens)
        out.append("und" if en == fr == 0 or en == fr else ("fr" if fr > en else "en"))
    return out


# --------------------------------------------------------------------------- #
# MinHash and LSH

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_EMPTY = np.iinfo(np.uint64).max
_EMPTY32 = np.iinfo(np.uint32).max


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (spreads shingle codes over all 64 bits), on a copy,
    computed in place with one scratch buffer: big fresh temporaries cost more
    in page faults than the arithmetic itself."""
    x = np.array(x, dtype=np.uint64, copy=True)
    scratch = np.empty_like(x)
    with np.errstate(over="ignore"):
        for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, 0)):
            np.right_shift(x, np.uint64(shift), out=scratch)
            np.bitwise_xor(x, scratch, out=x)
            if factor:
                np.multiply(x, np.uint64(factor), out=x)
    return x


def _byte_tables() -> tuple[np.ndarray, np.ndarray]:
    # Continuation byte after 0xC3 (U+00C0..U+00FF) -> its unaccented lower-case
    # ASCII letter, or a space; and the byte map of the folded corpus: ASCII
    # letters lower-cased, digits kept, the separator 0 and the drop mark 0xFF
    # kept, anything else a space.
    latin1 = np.full(256, 32, dtype=np.uint8)
    for code in range(0xC0, 0x100):
        base = unicodedata.normalize("NFKD", chr(code).casefold())
        base = "".join(c for c in base if not unicodedata.combining(c))
        if len(base) >= 1 and base[0].isascii() and base[0].isalnum():
            latin1[0x80 + code - 0xC0] = ord(base[0])
    table = np.full(256, 32, dtype=np.uint8)
    table[ord("0") : ord("9") + 1] = np.arange(ord("0"), ord("9") + 1)
    table[ord("a") : ord("z") + 1] = np.arange(ord("a"), ord("z") + 1)
    table[ord("A") : ord("Z") + 1] = np.arange(ord("a"), ord("z") + 1)
    table[0], table[0xFF] = 0, 0xFF
    return latin1, table


_LATIN1_FOLD, _BYTE_MAP = _byte_tables()


def _corpus_codes(texts: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """The shingle text of every text in one uint8 array, texts separated by a 0
    byte, and the position of each text's end (its separator, or the array end).

    Shingle text: lower case, Latin-1 accents stripped, "oe" for the French
    ligature, ASCII letters and digits only, runs of anything else one space.
    Computed on the joined UTF-8 corpus with numpy (no per-text Python work);
    other scripts are dropped, which suits English and French.
    """
    n = len(texts)
    joined = "\x00".join(t or "" for t in texts)
    if joined.count("\x00") != max(n - 1, 0):
        joined = "\x00".join((t or "").replace("\x00", " ") for t in texts)
    a = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8).copy()
    if len(a):
        lead = np.flatnonzero(a[:-1] == 0xC3)
        a[lead + 1] = _LATIN1_FOLD[a[lead + 1]]
        a[lead] = 0xFF
        oe = np.flatnonzero((a[:-1] == 0xC5) & ((a[1:] == 0x92) | (a[1:] == 0x93)))
        a[oe], a[oe + 1] = ord("o"), ord("e")
        a = _BYTE_MAP[a]
        # One pass drops the accent marks and every space that follows a space
        # or starts a text (a 0xFF mark is always followed by its letter).
        before = np.empty_like(a)
        before[0], before[1:] = 0, a[:-1]
        a = a[(a != 0xFF) & ~((a == 32) & ((before == 32) | (before == 0)))]
    ends = np.r_[np.flatnonzero(a == 0), len(a)].astype(np.int64)
    return a, ends


def shingle_text(texts: Sequence[str | None]) -> list[str]:
    """The text that MinHash shingles, per text (see ``_corpus_codes``)."""
    codes, _ = _corpus_codes(texts)
    return [p.decode("ascii").strip() for p in codes.tobytes().split(b"\x00")] if len(texts) else []


def _shingle_hashes(
    codes: np.ndarray, ends: np.ndarray, size: int, sample: int, salt: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """Salted, mixed hashes of the character ``size``-grams of each text, and their text ids.

    ``codes`` holds the texts separated by 0 bytes, ``ends`` the position of
    each text's end. Up to 8 characters a shingle is read in one pass as the
    little-endian word at each byte offset (a strided view, no copy), so its
    code is exact; longer shingles use a polynomial rolling hash. Windows that
    reach a separator are dropped. With ``sample`` > 1 only hashes divisible by
    ``sample`` are kept (the same shingles in every text, so Jaccard estimates
    stay consistent, at 1/sample of the cost). Texts shorter than ``size`` have
    no shingles.
    """
    n_windows = len(codes) - size + 1
    if n_windows <= 0:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    if size <= 8:
        padded = np.zeros(len(codes) + 8, dtype=np.uint8)
        padded[: len(codes)] = codes
        words = np.ndarray((n_windows,), dtype="<u8", buffer=padded, strides=(1,))
        grams = words & np.uint64((1 << (8 * size)) - 1)
    else:
        grams = np.zeros(n_windows, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(size):
                grams = grams * np.uint64(1_000_003) + codes[j : j + n_windows]
    hashes = _mix64(grams ^ salt)
    del grams
    # A window starting within size-1 characters before a text's end reaches it.
    crossing = (ends[:, None] - np.arange(0, size)[None, :]).ravel()
    keep = np.ones(n_windows, dtype=bool)
    keep[crossing[(crossing >= 0) & (crossing < n_windows)]] = False
    if sample > 1:
        keep &= hashes % np.uint64(sample) == 0
    position = np.flatnonzero(keep)
    return hashes[position], np.searchsorted(ends, position, side="right").astype(np.int64)


class _RecentMemo:
    """Values of recently seen texts, bounded (a base for the memos below).

    Entries are keyed by the text's hash and length (``_text_key``: the memo
    keeps no text alive; a 64-bit collision among its entries is negligible).
    Insertion order is age: when full, the oldest tenth goes at once, so a full
    memo does not walk all its keys at every new entry. Threads may share one.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: dict[tuple, object] = {}  # insertion order = age

    def _remember(self, key: tuple, value: object) -> None:
        self.rows[key] = value
        if len(self.rows) > self.size:
            for stale in list(islice(self.rows, max(1, self.size // 10))):
                self.rows.pop(stale, None)  # another thread may have dropped it


def _text_key(text: str) -> tuple[int, int]:
    return hash(text), len(text)


class _SignatureMemo(_RecentMemo):
    """The MinHash signatures of recently seen texts, per parameter set.

    A signature is a pure function of the text and the parameters, and the
    scoring path hashes the same texts several times (the band index, the ring
    and burst detectors, the near-duplicate component) and again in the next
    batch (an establishment's recent reviews). ~300 bytes an entry; corpora
    larger than half the memo bypass it (a batch run over a table would only
    churn it).
    """

    def signatures(self, texts: Sequence[str], params: tuple, compute) -> np.ndarray:
        if len(texts) > self.size // 2:
            return compute(texts)
        keys = [(params, *_text_key(t or "")) for t in texts]
        found = [self.rows.get(k) for k in keys]
        missing = [i for i, row in enumerate(found) if row is None]
        if missing:
            fresh = compute([texts[i] for i in missing])
            for i, row in zip(missing, fresh, strict=True):
                found[i] = row
                self._remember(keys[i], row)
        return np.stack(found) if found else compute([])


_MEMO = _SignatureMemo(size=100_000)


def minhash_signatures(
    texts: Sequence[str],
    *,
    num_perm: int = 128,
    shingle_size: int = 5,
    sample: int = 1,
    random_state: int = 0,
) -> np.ndarray:
    """MinHash signatures of ``texts``, shape ``(n, num_perm)``, uint32.

    See ``_minhash_signatures``; recently seen texts are answered from a
    bounded memo (``_SignatureMemo``).
    """
    params = (num_perm, shingle_size, sample, random_state)
    return _MEMO.signatures(texts, params, lambda some: _minhash_signatures(some, *params))


def _minhash_signatures(
    texts: Sequence[str], num_perm: int, shingle_size: int, sample: int, random_state: int
) -> np.ndarray:
    """MinHash signatures of ``texts`` (``minhash_signatures`` without the memo).

    Shingles are character ``shingle_size``-grams of the shingle text (lower
    case, no accents, letters and digits, single spaces; a hash-consistent
    1/``sample`` of them when ``sample`` > 1). One-permutation hashing: each
    shingle hash (salted by ``random_state``) falls in one of ``num_perm`` bins,
    a bin keeps its minimum, and empty bins borrow from another bin chosen by a
    fixed random probe sequence (optimal densification, Shrivastava 2017), so
    the cost is one pass over the shingles. The
    fraction of equal columns between two rows estimates the Jaccard similarity
    of their shingle sets. A text without shingles gets a row of ``2**32 - 1``
    (matches nothing). The corpus is processed in chunks of ~2M characters.
    """
    n = len(texts)
    signatures = np.full((n, num_perm), _EMPTY32, dtype=np.uint32)
    salt = np.random.default_rng(random_state).integers(0, 2**63, dtype=np.uint64)
    k = np.uint64(num_perm)
    # Chunks of whole texts, ~2M characters each: the corpus is never joined
    # whole, and small temporaries are reused by the allocator instead of
    # being faulted in afresh.
    sizes = np.fromiter((len(t or "") + 1 for t in texts), dtype=np.int64, count=n)
    cut = np.searchsorted(np.cumsum(sizes), np.arange(2_000_000, sizes.sum(), 2_000_000))
    bounds = np.unique(np.r_[0, cut + 1, n].clip(0, n))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        codes, ends = _corpus_codes(texts[lo:hi])
        hashes, text_id = _shingle_hashes(codes, ends, shingle_size, sample, salt)
        if len(hashes) == 0:
            continue
        with np.errstate(over="ignore"):
            bins = (((hashes >> np.uint64(32)) * k) >> np.uint64(32)).astype(np.int64)
        block = np.full((hi - lo) * num_perm, _EMPTY, dtype=np.uint64)
        np.minimum.at(block, text_id * num_perm + bins, hashes)
        # The minimum is taken on 64 bits; its low 32 bits are kept (half the
        # memory; two different minima agree with probability 2**-32).
        low = np.where(block == _EMPTY, _EMPTY32, block & np.uint64(0xFFFFFFFE))
        signatures[lo:hi] = _densify(low.astype(np.uint32).reshape(hi - lo, num_perm), random_state)
    return signatures


def _densify(sig: np.ndarray, random_state: int = 0, probes: int = 6) -> np.ndarray:
    """Fill each empty bin from another bin of the same row, chosen by a fixed
    random probe sequence per bin (the first non-empty probe wins; the next
    non-empty bin to the right if all probes are empty). Every row uses the
    same probes, so two texts agree on a filled bin about as often as on a real
    one, and, unlike plain rotation, runs of empty bins do not all copy one
    neighbour (which would make LSH bands collide far too often for short
    texts). Rows with no shingle at all stay empty."""
    k = sig.shape[1]
    out = sig.copy()
    empty = sig == np.iinfo(sig.dtype).max
    full = ~empty
    row, col = np.nonzero(empty & full.any(axis=1, keepdims=True))
    if len(row) == 0:
        return out
    probe = np.random.default_rng(random_state + 1).integers(0, k, size=(k, probes))
    candidates = probe[col]  # (cells, probes)
    hit = full[row[:, None], candidates]
    first = hit.argmax(axis=1)
    source = candidates[np.arange(len(row)), first]
    missed = ~hit[np.arange(len(row)), first]
    if missed.any():
        # Rare: scan right (circularly) for the first non-empty bin.
        for cell in np.flatnonzero(missed).tolist():
            r, c = row[cell], col[cell]
            source[cell] = (c + 1 + int(np.argmax(np.roll(full[r], -c - 1)))) % k
    out[row, col] = sig[row, source]
    return out


def _run_pairs(members: np.ndarray, run_start: np.ndarray, run_size: np.ndarray, max_bucket: int):
    """All pairs inside each run of ``members``; a run above ``max_bucket`` is a star."""
    small = run_size <= max_bucket
    # All pairs of small runs: element at position p pairs with p+1 .. run end.
    rs, sz = run_start[small], run_size[small]
    pos = np.repeat(rs, sz) + (
        np.arange(sz.sum(), dtype=np.int64) - np.repeat(np.cumsum(sz) - sz, sz)
    )
    run_end = np.repeat(rs + sz, sz)
    count = run_end - pos - 1
    left = np.repeat(pos, count)
    offset = np.arange(count.sum(), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    right = left + 1 + offset
    # Big runs (boilerplate shared by many texts): link each member to the first.
    rb, szb = run_start[~small], run_size[~small]
    star_left = np.repeat(rb, szb - 1)
    star_right = (
        star_left
        + 1
        + (
            np.arange((szb - 1).sum(), dtype=np.int64)
            - np.repeat(np.cumsum(szb - 1) - (szb - 1), szb - 1)
        )
    )
    return (
        members[np.concatenate((left, star_left))],
        members[np.concatenate((right, star_right))],
    )


def near_duplicate_pairs(
    signatures: np.ndarray,
    *,
    threshold: float = 0.5,
    bands: int = 32,
    max_bucket: int = 200,
    groups: np.ndarray | None = None,
    anchors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i, j, similarity)`` of rows whose estimated Jaccard is >= ``threshold``.

    LSH banding: the signature is cut into ``bands`` bands; rows equal on a whole
    band are candidates, verified on the full signature. ``i < j``; similarity is
    the fraction of equal MinHash values. Buckets larger than ``max_bucket`` are
    only linked to their first member (enough for groups, bounded in cost).
    With ``groups`` (an int64 label per row), only rows of the same group pair.
    With ``anchors`` (row indices), only pairs with at least one anchor are
    wanted: buckets without an anchor are not expanded, and no other pair is
    returned (a few new texts against a large context: the context's pairs among
    themselves cost most and say nothing about the new ones).
    """
    n, num_perm = signatures.shape
    rows = num_perm // bands
    blank = np.iinfo(signatures.dtype).max
    nonempty = np.flatnonzero(signatures[:, 0] != blank) if n else np.empty(0, np.int64)
    if rows == 0 or len(nonempty) < 2:
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0, np.float64)
    sig = signatures[nonempty]
    seed = (
        np.zeros(len(sig), dtype=np.uint64)
        if groups is None
        else _mix64(np.asarray(groups, dtype=np.int64)[nonempty].astype(np.uint64))
    )
    anchored = None
    if anchors is not None:
        anchored = np.zeros(n, dtype=bool)
        anchored[np.asarray(anchors, dtype=np.int64)] = True
        anchored = anchored[nonempty]
    lefts, rights = [], []
    with np.errstate(over="ignore"):
        for band in range(bands):
            key = seed.copy()
            for col in range(band * rows, (band + 1) * rows):
                key = _mix64(key * np.uint64(0x9E3779B97F4A7C15) + sig[:, col].astype(np.uint64))
            if anchored is None:
                order = np.argsort(key, kind="stable")
            else:
                near = np.flatnonzero(np.isin(key, key[anchored]))
                order = near[np.argsort(key[near], kind="stable")]
            sorted_key = key[order]
            boundary = np.flatnonzero(np.diff(sorted_key) != 0) + 1
            starts = np.concatenate(([0], boundary))
            sizes = np.diff(np.concatenate((starts, [len(sorted_key)])))
            keep = sizes > 1
            if keep.any():
                left, right = _run_pairs(order, starts[keep], sizes[keep], max_bucket)
                lefts.append(left)
                rights.append(right)
    if not lefts:
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0, np.float64)
    left = np.concatenate(lefts)
    right = np.concatenate(rights)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    if anchored is not None:
        wanted = anchored[lo] | anchored[hi]
        lo, hi = lo[wanted], hi[wanted]
    pair = sorted_unique(lo * np.int64(len(sig)) + hi)
    lo, hi = pair // len(sig), pair % len(sig)
    similarity = np.empty(len(pair), dtype=np.float64)
    step = max(1, 2_000_000 // num_perm)
    for s in range(0, len(pair), step):
        similarity[s : s + step] = (sig[lo[s : s + step]] == sig[hi[s : s + step]]).mean(axis=1)
    keep = similarity >= threshold
    return nonempty[lo[keep]], nonempty[hi[keep]], similarity[keep]


def lsh_band_keys(signatures: np.ndarray, *, bands: int = 32) -> np.ndarray:
    """The LSH band keys of each signature, shape ``(n, bands)``, int64.

    Two rows equal on a whole band share that band's key (the band's index is
    mixed in, so keys of different bands never meet). Stored in a table, the
    keys find a new text's near-duplicate candidates among all earlier ones
    with an indexed equality lookup, as ``near_duplicate_pairs`` does in
    memory. A text without shingles gets no keys (-1).
    """
    n, num_perm = signatures.shape
    rows = num_perm // bands
    if rows == 0:
        raise ValueError(f"{bands} bands need at least {bands} permutations")
    keys = np.full((n, bands), -1, dtype=np.int64)
    blank = np.iinfo(signatures.dtype).max
    nonempty = signatures[:, 0] != blank if n else np.zeros(0, bool)
    with np.errstate(over="ignore"):
        for band in range(bands):
            key = np.full(n, band, dtype=np.uint64)
            for col in range(band * rows, (band + 1) * rows):
                key = _mix64(key * np.uint64(0x9E3779B97F4A7C15)
                             + signatures[:, col].astype(np.uint64))
            # 63 bits: a signed key that fits PostgreSQL's bigint, never -1.
            keys[:, band] = (key >> np.uint64(1)).astype(np.int64)
    keys[~nonempty] = -1
    return keys


def near_duplicate_groups(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Group label per row from near-duplicate pairs; -1 for rows with no duplicate."""
    if len(i) == 0:
        return np.full(n, -1, dtype=np.int64)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    linked = np.zeros(n, dtype=bool)
    linked[i] = True
    linked[j] = True
    _, labels = np.unique(np.where(linked, labels, -1), return_inverse=True)
    labels = labels.astype(np.int64) - (1 if (~linked).any() else 0)
    return np.where(linked, labels, -1)


class NearDuplicateDetector:
    """Near-duplicate texts by MinHash + LSH (scikit-learn style).

    Parameters are stored unchanged (``sample``: keep 1 shingle in ``sample``,
    see ``minhash_signatures``); ``fit(texts)`` sets ``signatures_``,
    ``pairs_`` (i, j, similarity arrays, i < j), ``labels_`` (group per text,
    -1 when none) and ``similarity_`` (per text, the highest similarity to
    another text, 0 when none).
    """

    def __init__(
        self,
        num_perm: int = 128,
        shingle_size: int = 5,
        threshold: float = 0.5,
        bands: int = 32,
        max_bucket: int = 200,
        sample: int = 1,
        random_state: int = 0,
    ) -> None:
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.sample = sample
        self.threshold = threshold
        self.bands = bands
        self.max_bucket = max_bucket
        self.random_state = random_state

    def fit(
        self, texts: Sequence[str], y: object = None, *, groups: np.ndarray | None = None,
        anchors: np.ndarray | None = None,
    ) -> NearDuplicateDetector:
        """``groups`` (optional int label per text) restricts pairs to texts of one group;
        ``anchors`` (optional text indices) to pairs with at least one of them (the
        labels and similarities then describe those pairs only)."""
        self.signatures_ = minhash_signatures(
            texts,
            num_perm=self.num_perm,
            shingle_size=self.shingle_size,
            sample=self.sample,
            random_state=self.random_state,
        )
        i, j, sim = near_duplicate_pairs(
            self.signatures_,
            threshold=self.threshold,
            bands=self.bands,
            max_bucket=self.max_bucket,
            groups=groups,
            anchors=anchors,
        )
        self.pairs_ = (i, j, sim)
        self.labels_ = near_duplicate_groups(len(texts), i, j)
        best = np.zeros(len(texts), dtype=np.float64)
        np.maximum.at(best, i, sim)
        np.maximum.at(best, j, sim)
        self.similarity_ = best
        return self


# --------------------------------------------------------------------------- #
# Extortion cues


@dataclass(frozen=True)
class Cue:
    code: str  # one of CUE_CODES
    span: tuple[int, int]  # [start, end) character offsets in the original text
    quote: str  # the original text of the span (the apps word the sentence around it)


#: The kinds of extortion cue, strongest first.
CUE_CODES: tuple[str, ...] = (
    "demand_with_threat", "conditional_threat", "review_as_leverage", "audience_leverage",
)

# Building blocks, matched against ``fold(text)`` (lower case, no accents, ' apostrophes).
_END = r"[^.!?\n]"  # any character that does not end a sentence
_FEW_WORDS = r"(?:[\s,:]+[^\s.!?;]+){0,3}?[\s,:]+"  # at most three words in between

_DEMAND_EN = (
    r"(?:refund\w*|reimburs\w*|compensat\w*|money\s+back|pay\s+(?:me|us)\b|"
    r"(?:free|complimentary|comped?)\s+(?:nights?|stays?|rooms?|meals?|dinners?|lunch|breakfast|"
    r"upgrades?|drinks?|bottles?|desserts?)|upgrade\w*|discount\w*|vouchers?|gift\s+cards?|credit|"
    r"comp\s+(?:my|our|the)\s+\w+|(?:until\s+\w+(?:\s+\w+)?\s+to|please|must|need\s+to|have\s+to|better)\s+make\s+(?:this|it|things)\s+"
    r"right)"
)
_DEMAND_VERB_EN = r"(?:refund|reimburse|compensate|pay|give|offer|comp|upgrade|discount|make\s+(?:this|it)\s+right)"
_THREAT_EN = (
    r"(?:(?:(?:i|we)(?:'ll|\s+will|\s+shall|'m\s+going\s+to|\s+am\s+going\s+to|'re\s+going\s+to|"
    r"\s+are\s+going\s+to)|(?:he|she|they)(?:'ll|\s+will|\s+would|'d|'s\s+going\s+to|'re\s+going\s+to|"
    r"\s+(?:is|was|are|were)\s+going\s+to))\s+(?!have\b)(?:\w+\s+){0,2}?(?:(?:post|publish|share|expose|make\s+sure|"
    r"go\s+public|destroy|ruin|blast|warn)\w*|(?:leave|put|give|rate|tell|writ)\w*\s+(?:\S+\s+){0,3}?"
    r"(?:reviews?|stars?|everyone|everybody|the\s+world|online|everywhere|about|on\s+(?:google|yelp|"
    r"tripadvisor|booking|facebook|instagram|tiktok|every))\b)"
    r"|(?:this|my|the)\s+(?:\w+\s+)?review\s+(?:stays|remains|will\s+(?:stay|remain|go)|goes\s+(?:up|live|public|online))"
    r"|this\s+(?:stays|remains|goes\s+(?:up|live|public|online))"
    r"|(?:a\s+)?(?:1|one|0|zero)[-\s]?stars?"
    r"|(?:bad|negative|terrible|horrible|scathing|damning)\s+reviews?"
    r"|(?:everyone|the\s+whole\s+world|all\s+my\s+\w+)\s+will\s+(?:know|hear|see)"
    r"|(?:tripadvisor|google|yelp|booking(?:\.com)?|facebook|instagram|tiktok|the\s+internet|social\s+media)"
    r"\s+(?:will\s+)?(?:hears?|knows?|sees?|learns?|gets?\s+the\s+(?:full\s+)?story)\b)"
)
_DEMAND_FR = (
    r"(?:rembours\w*|dedommag\w*|indemnis\w*|compens\w*|geste(?:\s+commercial)?|"
    r"(?:nuit|nuitee|sejour|repas|diner|dejeuner|petit-dejeuner|chambre|surclassement)s?\s+"
    r"(?:offert|gratuit)e?s?|surclassement|reduction|ristourne|bon\s+d'achat|mon\s+argent|payez|arranger\s+(?:ca|cela|les\s+choses))"
)
_DEMAND_VERB_FR = r"(?:rembours|dedommag|indemnis|compens|propos|offr|fai|accord|donn|geste)\w*"
_THREAT_FR = (
    r"(?:(?:(?:je\s+|j'|nous\s+)(?!(?:ai|avais|aurais|aurait|avait|avons|aurions|avions|suis|etais)\b)"
    r"|(?:il|elle|ils|elles)\s+(?!(?:a|avait|aurait|avaient|auraient|est|etait|ont)\b))"
    r"(?:\w+\s+){0,2}?(?:(?:publi|post|partag|racont|denonc|balanc|alert)\w*|(?:mets|mettr|mettre|laiss|"
    r"ecri|donn)\w*\s+(?:\S+\s+){0,3}?(?:avis|etoiles?|note|commentaire|partout|en\s+ligne|sur\s+(?:google|"
    r"tripadvisor|booking|facebook|instagram|tiktok|tous|internet)))"
    r"|(?:mon|cet|l'|ce|un|une|des|votre)\s*(?:\w+\s+)?(?:avis|commentaire|note)\s+(?:reste|restera|sera|"
    r"va|part|ira|negati\w*|a\s+une\s+etoile|1\s+etoile|assassin|catastroph\w*|publi\w*|en\s+ligne)"
    r"|(?:une|1|0|zero)\s+etoile"
    r"|(?:mauvais|sale)\s+(?:avis|pub\w*|commentaire)"
    r"|tout\s+le\s+monde\s+(?:saura|va\s+savoir|le\s+saura)"
    r"|(?:tripadvisor|google|booking|facebook|instagram|tiktok|internet|les\s+reseaux)\s+(?:saura|sauront|"
    r"va\s+savoir|vont\s+savoir|entendra)"
    r"|mes\s+(?:\w+\s+)?abonnes\s+(?:sauront|vont\s+savoir|seront))"
)
_AMOUNT = r"\d[\d\s.,]*\s*(?:k|m|000|thousand|million|mille|millions?)?"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern, re.IGNORECASE))
    for code, pattern in (
        # "refund me or I will post ...", "free night or a 1-star review", "refund me or this stays"
        (
            "demand_with_threat",
            rf"\b{_DEMAND_EN}{_END}{{0,40}}?\b(?:or(?:\s+else)?|otherwise|else|after\s+that|failing\s+that|if\s+not)\b{_FEW_WORDS}"
            rf"{_THREAT_EN}",
        ),
        # "remboursez-moi sinon je publie ...", "geste commercial ou mon avis reste"
        (
            "demand_with_threat",
            rf"\b{_DEMAND_FR}{_END}{{0,40}}?\b(?:sinon|ou(?:\s+bien|\s+alors)?|faute\s+de\s+quoi|a\s+defaut|"
            rf"autrement|sans\s+quoi|apres(?:\s+(?:ca|quoi|cela))?|passe\s+ce\s+delai)\b{_FEW_WORDS}{_THREAT_FR}",
        ),
        # "if you don't refund me, I will post ...", "unless you give me a free night I'll ..."
        (
            "conditional_threat",
            rf"\b(?:if|unless)\s+(?:you|we|the\s+hotel|the\s+restaurant|they|the\s+manager|management|"
            rf"the\s+owner)\s+(?:(?:don't|do\s+not|didn't|did\s+not|won't|will\s+not|wouldn't|would\s+not|"
            rf"refused?\s+to|fail(?:ed)?\s+to|can't|cannot|couldn't|doesn't|does\s+not)\s+)?"
            rf"(?:\w+\s+){{0,2}}?{_DEMAND_VERB_EN}\w*{_END}{{0,80}}?{_THREAT_EN}",
        ),
        # "I will post a 1-star review everywhere unless you refund me"
        (
            "conditional_threat",
            rf"{_THREAT_EN}{_END}{{0,80}}?\b(?:unless|until|if\s+(?:you|i)\s+(?:don't|do\s+not|won't|"
            rf"can't|cannot|refuse))\b{_END}{{0,40}}?{_DEMAND_EN}",
        ),
        # "si vous ne me remboursez pas, je publie ...", "si je ne suis pas remboursee, ..."
        (
            "conditional_threat",
            rf"(?:\b(?:si|a\s+moins\s+que|sauf\s+si)\s+(?:vous|l'hotel|le\s+restaurant|la\s+direction|je|on|"
            rf"nous|il|elle)|\bs'ils?)\s+(?:ne\s+|n')?(?:me\s+|m'|le\s+|la\s+|les\s+|lui\s+|l')?"
            rf"(?:\w+\s+){{0,4}}?{_DEMAND_VERB_FR}{_END}{{0,80}}?{_THREAT_FR}",
        ),
        # "je publie mon avis partout a moins que vous ne me remboursiez"
        (
            "conditional_threat",
            rf"{_THREAT_FR}{_END}{{0,80}}?\b(?:a\s+moins\s+(?:que|d')|sauf\s+si|tant\s+que|"
            rf"si\s+(?:vous|je)\s+ne)\b{_END}{{0,40}}?{_DEMAND_FR}",
        ),
        # "he demanded a refund and said he would post a bad review if we refused"
        (
            "conditional_threat",
            rf"\b{_DEMAND_EN}{_END}{{0,60}}?{_THREAT_EN}{_END}{{0,40}}?\bif\s+(?:you|we|they|i|the\s+hotel)\s+"
            rf"(?:refused?|refuses|don't|didn't|do\s+not|did\s+not|won't|wouldn't|said\s+no|say\s+no)\b",
        ),
        # "il a exige un remboursement et dit qu'il publierait un avis negatif si on refusait"
        (
            "conditional_threat",
            rf"\b{_DEMAND_FR}{_END}{{0,60}}?{_THREAT_FR}{_END}{{0,40}}?(?:\bsi\s+(?:on|nous|vous|l'hotel|ils?)|"
            rf"\bs'ils?)\s+(?:refus|ne\b|n')",
        ),
        # "I will remove my review if you refund me", "this review stays until I get a refund"
        (
            "review_as_leverage",
            rf"\b(?:i|we)(?:'ll|\s+will|'d|\s+would|\s+can|\s+could|\s+am\s+happy\s+to|'m\s+happy\s+to)\s+"
            rf"(?:\w+\s+){{0,2}}?(?:remove|delete|take\s+down|withdraw|retract|change|edit)\s+(?:my|the|this)\s+"
            rf"(?:\w+\s+)?review{_END}{{0,60}}?\b(?:if|once|when|as\s+soon\s+as|in\s+exchange\s+for|provided)\b"
            rf"{_END}{{0,60}}?{_DEMAND_EN}",
        ),
        (
            "review_as_leverage",
            rf"\breview\s+(?:stays|remains|will\s+stay|will\s+remain|stays\s+up)\s+(?:\w+\s+)?until\b"
            rf"{_END}{{0,60}}?{_DEMAND_EN}",
        ),
        (
            "review_as_leverage",
            rf"\b(?:je|nous)\s+(?:\w+\s+){{0,2}}?(?:retir|supprim|enlev|modifi|chang)\w*\s+(?:mon|notre|cet|l')\s*"
            rf"(?:\w+\s+)?avis{_END}{{0,60}}?\b(?:si|des\s+que|quand|lorsque|une\s+fois|en\s+echange\s+d)"
            rf"{_END}{{0,60}}?{_DEMAND_FR}",
        ),
        (
            "review_as_leverage",
            rf"\bavis\s+(?:reste|restera)\s+(?:en\s+ligne\s+)?(?:tant\s+que|jusqu'a)\b{_END}{{0,60}}?{_DEMAND_FR}",
        ),
        # The demand first, then the review held hostage: "they wouldn't refund me, so
        # this review stays until they do", "refund me and I'll remove this review".
        (
            "review_as_leverage",
            rf"\b{_DEMAND_EN}{_END}{{0,60}}?\b(?:this|my|the)\s+(?:\w+\s+)?review\s+(?:stays|remains|"
            rf"will\s+(?:stay|remain))(?:\s+(?:up|online|here))?\s+until\s+(?:they|you|the\s+\w+|i|we)\s+"
            rf"(?:do|does|pay|refund|give)\b",
        ),
        (
            "review_as_leverage",
            rf"\b(?:refund|reimburse|compensate|pay|give|comp|upgrade)\s+(?:me|us)\b{_END}{{0,40}}?\b(?:and|then)\s+"
            rf"(?:i|we)(?:'ll|\s+will)\s+(?:\w+\s+)?(?:remove|delete|take\s+down|withdraw|change|edit)\s+"
            rf"(?:my|the|this)\s+(?:\w+\s+)?review",
        ),
        # "remboursez-moi et je retirerai cet avis", "cet avis restera tant qu'ils ne m'auront pas rembourse"
        (
            "review_as_leverage",
            rf"\b(?:rembours|dedommag|indemnis|compens|offr|donn|fait|accord|propos)ez(?:-(?:moi|nous|le|la))?\b"
            rf"{_END}{{0,40}}?\b(?:et|puis)\s+(?:je|nous)\s+(?:\w+\s+){{0,2}}?"
            rf"(?:retir|supprim|enlev|modifi|chang)\w*\s+(?:mon|notre|cet|l')\s*(?:\w+\s+)?avis",
        ),
        # "I have 50k followers", "my 20,000 subscribers", "I'm an influencer"
        (
            "audience_leverage",
            rf"\b(?:i|we)\s*(?:have|'ve\s+got|have\s+got|'ve)\s+(?:over\s+|more\s+than\s+|almost\s+|nearly\s+)?"
            rf"{_AMOUNT}\s*(?:followers|subscribers|readers|fans)\b",
        ),
        ("audience_leverage", rf"\bmy\s+{_AMOUNT}\s*(?:followers|subscribers|readers|fans)\b"),
        (
            "audience_leverage",
            r"\b(?:i\s+am|i'm)\s+an?\s+(?:\w+\s+)?(?:influencer|blogger|vlogger|youtuber|food\s+critic|travel\s+writer)\b",
        ),
        # "mes 20 000 abonnes", "j'ai 50k abonnes", "je suis influenceuse"
        (
            "audience_leverage",
            rf"\b(?:j'ai|nous\s+avons)\s+(?:plus\s+de\s+|pres\s+de\s+|presque\s+)?{_AMOUNT}\s*"
            rf"(?:abonnes|followers|lecteurs|fans)\b",
        ),
        ("audience_leverage", rf"\bmes\s+{_AMOUNT}\s*(?:abonnes|followers|lecteurs|fans)\b"),
        (
            "audience_leverage",
            r"\bje\s+suis\s+(?:un\s+|une\s+)?(?:\w+\s+)?(?:influenceu(?:r|se)|blogueu(?:r|se)|youtubeu(?:r|se)|"
            r"critique\s+gastronomique)\b",
        ),
    )
)


# Every pattern needs some of these words (necessary conditions, checked with
# substring tests or tiny regexes, lazily); a text without them skips the
# pattern, as most texts do.
_STEMS = {
    "demand_en": (
        "refund", "reimburs", "compensat", "money", "pay", "free", "complimentary", "comp",
        "upgrade", "discount", "voucher", "gift", "credit", "right",
    ),
    "demand_fr": (
        "rembours", "dedommag", "indemnis", "compens", "geste", "offert", "gratuit", "surclass",
        "reduction", "ristourne", "bon", "argent", "payez", "arranger",
    ),
    "audience": (
        "follower", "subscriber", "reader", "fans", "influenc", "blogg", "vlogg", "youtub",
        "critic", "writer", "abonne", "lecteur", "blogueu",
    ),
}  # fmt: skip
_WORDS = re.compile(r"[a-z0-9']+")
_WORD_TRIGGERS = {
    "if_en": frozenset({"if", "unless"}),
    "si_fr": frozenset({"si", "s'il", "s'ils", "moins", "sauf"}),
    "or_en": frozenset({"or", "otherwise", "else", "after", "failing", "if"}),
    "ou_fr": frozenset({"sinon", "ou", "faute", "defaut", "autrement", "quoi", "apres", "passe"}),
    "unless_en": frozenset({"unless", "until", "if"}),
    "unless_fr": frozenset({"moins", "sauf", "tant", "si", "s'il", "s'ils"}),
}
_SUBSTRINGS = {"review": "review", "avis": "avis"}
# Per pattern, the triggers it needs (all of them).
_PATTERN_TRIGGER: tuple[tuple[str, ...], ...] = (
    ("demand_en", "or_en"),
    ("demand_fr", "ou_fr"),
    ("if_en",),
    ("demand_en", "unless_en"),
    ("si_fr",),
    ("demand_fr", "unless_fr"),
    ("demand_en", "unless_en"),
    ("demand_fr", "unless_fr"),
    ("demand_en", "review"),
    ("demand_en", "review"),
    ("demand_fr", "avis"),
    ("demand_fr", "avis"),
    ("demand_en", "review"),
    ("demand_en", "review"),
    ("demand_fr", "avis"),
) + (("audience",),) * 6
assert len(_PATTERN_TRIGGER) == len(_PATTERNS)


# --- Demand, leverage and their link, clause by clause ----------------------------------
# The phrase patterns above each fix one word order. Blackmail is written in many:
# "I want 200 euros back or my review goes up tonight", "Send me a voucher and this
# review disappears", "Sans geste commercial d'ici lundi, mon avis restera en ligne".
# This pass looks, within a sentence or two adjacent ones, for three parts in any
# order: a demand that looks forward (an imperative, a want, a deadline, "until I
# get", "contre un remboursement"), leverage (the review kept, posted or withdrawn, a
# one-star rating promised, an audience, a video going online) and what ties them
# (or / unless / until / sinon / tant que / "and I'll delete"). A complaint about a
# refund refused ("I asked for a refund, they refused, one star") has no forward
# demand; a review that states its intention ("I will warn everyone") has no demand
# tied to it.

_OBJ_EN = r"(?:me|us|my|our|the|a|an|what|back|\d)"
_GOODS_EN = (
    r"(?:refund\w*|reimburse?ment|compensation|money|cash|\d[\d\s.,]*\s*(?:euros?|eur|dollars?|usd|"
    r"pounds?|gbp|bucks)|[$\u20ac\u00a3]\s*\d|vouchers?|discount|gift\s+cards?|credit|free\s+\w+|deposit)"
)
_DEMAND_CLAUSE_EN = (
    # "Refund me ...", "Send me a voucher ...", "Remove the charge ...": an imperative
    # where a clause starts.
    rf"(?:(?:^|(?<=[.!?\n;]))\s*|[,;:\-(]\s*|\b(?:or|and|so|now|just|please|simply|then)\s+)(?:refund|reimburse|compensate|"
    rf"pay|give|send|offer|comp|credit|transfer|wire|return)\s+{_OBJ_EN}"
    r"|(?:(?:^|(?<=[.!?\n;]))\s*|[,;:\-(]\s*|\b(?:or|and|so|now|just|please|simply|then)\s+)(?:remove|reverse|cancel|drop|"
    r"waive|refund)\s+(?:the|this|that|my|our|your)\s+(?:\w+\s+)?(?:charges?|fees?|bill|payment|deposit|"
    r"penalty|surcharge)"
    # "I want 200 euros back", "we expect a full refund", "I demand compensation"
    rf"|\b(?:i|we)\s+(?:(?:still\s+)?(?:want|expect|demand|need|require|insist\s+on)|am\s+owed|are\s+owed)"
    rf"\b(?:\s+\S+){{0,4}}?\s+{_GOODS_EN}"
    # "until I get my money back", "if I don't get compensation", "unless you refund"
    rf"|\b(?:if|unless|until|as\s+soon\s+as|the\s+moment)\s+(?:i|we)\s+(?:don't\s+|do\s+not\s+"
    rf"|can't\s+|cannot\s+)?(?:get|receive|see|am\s+given|are\s+given|am\s+paid|are\s+paid)"
    rf"(?:\s+\S+){{0,3}}?\s+{_GOODS_EN}"
    r"|\b(?:if|unless|until|as\s+soon\s+as|the\s+moment)\s+(?:you|they|the\s+\w+|management)"
    r"\s+(?:\w+\s+){0,2}?(?:refund|reimburse|compensate|pay|send|offer|give|credit|comp|waive|transfer|"
    r"make\s+(?:it|this|things)\s+right)\w*"
    # "you have 48 hours to pay me back"
    r"|\byou\s+have\s+(?:\w+\s+){1,3}?to\s+(?:refund|reimburse|compensate|pay|make\s+(?:it|this|things)"
    r"\s+right|give|send)"
    # "still waiting for my refund", "in exchange for a full refund"
    r"|\b(?:still\s+)?waiting\s+(?:for|on)\s+(?:my|our|a|the)\s+(?:\w+\s+)?(?:refund|money|"
    r"compensation|reimbursement)"
    rf"|\b(?:in\s+exchange\s+for|in\s+return\s+for)\s+(?:a|an|the|my|our|some)?\s*"
    rf"(?:full\s+|partial\s+|small\s+)?{_GOODS_EN}"
    rf"|(?:^|(?<=[.!?\n;]))\s*(?:a\s+)?(?:full\s+|partial\s+)?{_GOODS_EN}"
)
_GOODS_FR = (
    r"(?:rembours\w*|dedommag\w*|indemni\w*|compensation|geste(?:\s+commercial)?|avoir|bon\s+d'achat|"
    r"reduction|ristourne|argent|\d[\d\s.,]*\s*(?:euros?|eur|balles)|\u20ac\s*\d|nuit\w*\s+offerte\w*|"
    r"repas\s+offert\w*)"
)
_DEMAND_CLAUSE_FR = (
    r"(?:(?:^|(?<=[.!?\n;]))\s*|[,;:\-(]\s*|\b(?:ou|et|alors|donc|maintenant|juste)\s+)(?:rembourse[sz]?|payez|paie|donnez|"
    r"offrez|envoyez|versez|dedommagez|indemnisez|compensez|annulez|retirez|faites(?:-moi|-nous)?\s+un)"
    r"(?:-moi|-nous|\s+(?:moi|nous|le|la|les|mon|ma|mes|un|une|l'))"
    rf"|\b(?:je|nous|j')\s*(?:veux|voulons|exige|exigeons|attends|attendons|reclame|reclamons|demande|"
    rf"demandons|compte\s+sur|comptons\s+sur)\b(?:\s+\S+){{0,4}}?\s+{_GOODS_FR}"
    r"|\b(?:je|nous)\s+(?:veux|voulons|exige|exigeons)\s+(?:etre|d'etre)\s+(?:rembourse|dedommage|indemnise)"
    rf"|\b(?:si|tant\s+que|jusqu'a\s+ce\s+que|des\s+que|avant\s+que|a\s+moins\s+que|"
    rf"sauf\s+si)\s+(?:je|nous|j'|on)\s*(?:ne\s+|n')?(?:\w+\s+){{0,2}}?(?:obtien|recoi|recev|touch|"
    rf"aurai|suis|serai|sommes|serons)\w*(?:\s+\S+){{0,3}}?\s+{_GOODS_FR}"
    r"|\b(?:si|tant\s+que|jusqu'a\s+ce\s+que|des\s+que|a\s+moins\s+que|sauf\s+si)"
    r"\s+(?:je|nous|j'|on)\s*(?:ne\s+|n')?(?:suis|serai|sommes|serons|aurai\s+ete|ai\s+pas\s+ete)"
    r"\s+(?:pas\s+)?(?:rembourse|dedommage|indemnise)"
    rf"|(?:(?:^|(?<=[.!?\n;]))\s*|[,;:]\s*)sans\s+(?:un|une|le|la|l'|votre|mon|ma)?\s*(?:\w+\s+)?{_GOODS_FR}"
    rf"|\b(?:contre|moyennant|en\s+echange\s+d'?(?:un|une|le|la)?)\s+(?:un|une|le|la|l'|votre|mon|ma)?\s*"
    rf"(?:\w+\s+)?{_GOODS_FR}"
    rf"|\bpas\s+de\s+{_GOODS_FR}\s*(?:=|->|\u2192|:)"
    r"|\bvous\s+avez\s+(?:\w+\s+){1,4}?pour\s+(?:me|nous)\s+(?:rembourser|dedommager|payer|indemniser)"
    r"|\b(?:toujours\s+)?en\s+attente\s+(?:de|du|d')\s*(?:mon|notre)?\s*(?:rembours\w*|dedommag\w*)"
    # "si vous nous surclassez", "des que vous m'aurez rembourse", "a condition que l'hotel offre"
    r"|\b(?:si|des\s+que|a\s+condition\s+que|pour\s+peu\s+que)\s+(?:vous|l'hotel|le\s+restaurant|"
    r"la\s+direction|ils?|le\s+\w+)\s+(?:(?:me|nous|m'|n')\s*)?(?:\w+\s+){0,2}?(?:rembours|dedommag|"
    r"indemnis|offr|surclass|annul|recredit|accord|retir|enlev|rend|pay|pai)\w*"
    # "Un avoir de 150 euros et je modifie ma note": a sentence that opens on what is wanted.
    rf"|(?:^|(?<=[.!?\n;]))\s*(?:un|une|le|la|l')?\s*(?:\w+\s+)?{_GOODS_FR}(?:\s+(?:de|d')\s*[\d\s.,]+\s*(?:euros?|eur|\u20ac))?"
)
# The review held, withdrawn or posted; a rating promised; an audience or the
# internet brandished. "review" leverage (withdrawn or changed) may be tied by a
# plain "and" ("send me a voucher and this review disappears").
_REVIEW_LEVERAGE = (
    r"\b(?:delete|remove|take\s+down|withdraw|retract|change|update|edit|modify|revise|raise|improve|amend|"
    r"upgrade|fix|bump|replace)\w*\s+(?:\w+\s+){0,2}?(?:review|rating|stars?|score|post|comment)"
    r"|\b(?:delete|remove|edit|revise|update|bump|replace|retract|withdraw)\s+(?:this|it|you)\b"
    r"|\b(?:take|took|taking)\s+(?:(?:it|this|that)(?:\s+review)?|(?:the|my|our)\s+review)\s+down"
    r"|\b(?:this|my|the|our)\s+(?:\w+\s+)?(?:review|rating|post)\s+(?:\w+\s+)?(?:disappears?|vanish\w*|"
    r"stays?|remains?|will\s+(?:stay|remain|disappear|be\s+(?:removed|deleted|updated|changed|edited)))"
    r"|\b(?:this|it)\s+(?:stays|remains|disappears)\b"
    r"|\b(?:supprim|retir|enlev|modifi|chang|corrig|amelior|remont|effac|pass|revis)\w*\s+"
    r"(?:\w+\s+){0,2}?(?:avis|note|commentaire|evaluation|etoiles?)"
    r"|\b(?:remont|pass)\w*\s+(?:\w+\s+){0,3}?(?:a|de)\s+\d\s*(?:\w+\s+)?(?:a\s+\d\s+)?etoiles?"
    r"|\b(?:mon|notre|cet|ce|l'|votre|cette)\s*(?:\w+\s+)?(?:avis|commentaire|note)\s+(?:\w+\s+)?"
    r"(?:reste|restera|disparai\w*|sera\s+(?:supprime|retire|modifie|publie|en\s+ligne)|part|partira|ira|"
    r"va\s+(?:rester|partir|disparaitre))"
    r"|\b(?:elle|il)\s+(?:reste|restera)\s+a\s+(?:1|une)\b"
)
_PUBLIC_LEVERAGE = (
    r"\b(?:expect|get\s+ready\s+for|prepare\s+for|leave|give|post|write|get)\w*\s+(?:\w+\s+){0,2}?"
    r"(?:1|one|zero|0)[-\s]?stars?"
    r"|\b(?:1|one|zero|0)[-\s]?star\s+(?:reviews?|ratings?)?\s*(?:on|everywhere|forever|across)"
    r"|\b(?:post|publish|share|upload|spread|put|blast|expos)\w*\s+(?:\w+\s+){0,5}?(?:online|everywhere|"
    r"on\s+(?:google|yelp|tripadvisor|booking|facebook|instagram|tiktok|twitter|x|youtube|social|every)|"
    r"(?:the\s+)?(?:video|photos?|pictures?|footage))"
    r"|\b(?:gets?|will\s+be|is)\s+(?:shared|posted|published|online)\b"
    r"|\b(?:review|rating|post|it)\s+(?:\w+\s+)?(?:goes|will\s+go)\s+(?:up|live|public|online)"
    r"|\b(?:followers|subscribers|audience)\b"
    r"|\b(?:everyone|everybody|the\s+(?:whole\s+)?world|the\s+internet|social\s+media)\s+(?:\w+\s+){0,3}?"
    r"(?:will|is\s+going\s+to)\s+(?:know|hear|see|learn)"
    r"|\b(?:will|shall)\s+hear\s+about\s+(?:this|it)"
    r"|\breport\s+(?:you|this\s+place|the\s+hotel|the\s+restaurant)\s+to\b"
    r"|\bwrite\s+(?:\w+\s+){0,2}?reviews?"
    r"|\byou(?:'ve|\s+have)\s+been\s+warned|\bconsider\s+yourselves?\s+warned"
    r"|\b(?:laiss|donn|mett|mets|post|publi|attend)\w*\s+(?:\w+\s+){0,2}?(?:1|une|0|zero)\s+etoiles?"
    r"|\bavis\s+(?:a\s+)?(?:1|une|0|zero)\s+etoiles?|\b(?:1|une)\s+etoiles?\s+(?:sur|partout)"
    r"|\b(?:publi|post|partag|diffus|balanc|denonc|affich)\w*\s+(?:\w+\s+){0,5}?(?:en\s+ligne|partout|"
    r"sur\s+(?:google|tripadvisor|booking|facebook|instagram|tiktok|internet|les\s+reseaux|tous)|"
    r"(?:la\s+|les\s+)?(?:video|photos?))"
    r"|\b(?:abonnes|followers)\b"
    r"|\btout\s+le\s+monde\s+(?:saura|va\s+savoir|le\s+saura|sera\s+au\s+courant)"
    r"|\b(?:previen|alert|averti)\w*\s+(?:\w+\s+){0,2}?(?:abonnes|reseaux|tout\s+le\s+monde)"
)
# What ties a demand to leverage when the demand does not carry its own condition.
_LINK = (
    r"\b(?:or(?:\s+else)?|otherwise|else|unless|until(?:\s+then)?|if\s+not|before|failing\s+that|"
    r"sinon|ou(?:\s+bien|\s+alors)?|faute\s+de\s+quoi|sans\s+quoi|a\s+defaut|apres\s+quoi|"
    r"tant\s+que|jusque[-\s]la|d'ici\s+la)\b|[=\u2192]|->"
)
# Ties a demand to the review itself: "... and I'll delete it", "et je modifie ma note".
_TRADE = (r"\b(?:and|then)\s+(?:i|we)(?:'ll|\s+will|\s+shall|\s+won't|\s+will\s+not)?\b|\band\s*$|"
          r"\bet\s+(?:je|j'|nous)\b|\bet\s*$")
# A demand that states its own condition ("until I get ...", "sans geste", "contre un ...").
_SELF_LINKED = re.compile(
    r"^(?:if|unless|until|as\s+soon|the\s+moment|you\s+have|in\s+exchange|in\s+return|si|tant|jusqu|"
    r"des|avant|a\s+moins|sauf|sans|contre|moyennant|en\s+echange|pas\s+de|vous\s+avez)\b"
)

_LEAD_WORD = re.compile(r"^(?:or|and|so|now|just|please|simply|then|ou|et|alors|donc|maintenant|juste)\s+")
_DEMAND_CLAUSE = re.compile(rf"{_DEMAND_CLAUSE_EN}|{_DEMAND_CLAUSE_FR}")
_REVIEW_LEVER = re.compile(_REVIEW_LEVERAGE)
_PUBLIC_LEVER = re.compile(_PUBLIC_LEVERAGE)
_LINK_WORD = re.compile(_LINK)
_TRADE_WORD = re.compile(_TRADE)


_OPENING_LINK = re.compile(
    r"\s*(?:otherwise|or\s+else|if\s+not|until\s+then|failing\s+that|sinon|sans\s+quoi|"
    r"faute\s+de\s+quoi|d'ici\s+la|jusque-la|en\s+attendant)\b"
)
#: "Refund me or else." is a threat by itself.
_OR_ELSE = re.compile(r"\s*(?:or\s+else|sinon)\s*(?:[.!?]|$)")


def _clause_cues(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, code) of demands tied to leverage within one or two sentences.

    Each part is matched once over the whole text; a window (a sentence, or it
    and the next) takes the matches that lie inside it."""
    demands = list(_DEMAND_CLAUSE.finditer(folded))
    if not demands:
        return []
    levers = sorted([(m, "review_as_leverage") for m in _REVIEW_LEVER.finditer(folded)]
                    + [(m, "demand_with_threat") for m in _PUBLIC_LEVER.finditer(folded)],
                    key=lambda pair: pair[0].start())
    sentences = [m.span() for m in SENTENCE.finditer(folded)]
    found: list[tuple[int, int, str]] = []
    for k in range(len(sentences)):
        for last in (k, k + 1):
            if last >= len(sentences):
                continue
            lo, hi = sentences[k][0], sentences[last][1]
            if _BUSINESS_OFFER.search(folded, lo, hi):
                continue  # the business's offer, reported by the guest
            cue = _clause_cue(
                folded, [d for d in demands if lo <= d.start() and d.end() <= hi],
                [(m, c) for m, c in levers if lo <= m.start() and m.end() <= hi], two=last > k)
            if cue is not None:
                found.append(cue)
                break
    return found


def _clause_cue(folded: str, demands: list[re.Match], levers: list[tuple[re.Match, str]], *,
                two: bool) -> tuple[int, int, str] | None:
    for demand in demands:
        phrase = _LEAD_WORD.sub("", demand.group().lstrip(",;:-( .!?\n"))
        start = demand.end() - len(phrase)
        self_linked = bool(_SELF_LINKED.match(phrase))
        or_else = None if two else _OR_ELSE.match(folded, demand.end())
        if or_else is not None:
            return start, or_else.end(), "demand_with_threat"
        for lever, code in levers:
            if lever.start() < demand.end() and demand.start() < lever.end():
                continue  # one phrase is not both
            a, b = sorted((demand, lever), key=lambda m: m.start())
            between = folded[a.end():b.start()]
            if two and not _crosses_with_link(between):
                continue
            linked = (self_linked or _LINK_WORD.search(between) is not None
                      or (code == "review_as_leverage" and a is demand
                          and _TRADE_WORD.search(between) is not None))
            if linked and len(between) <= 120:
                return (start if a is demand else a.start()), b.end(), code
    return None


def _crosses_with_link(between: str) -> bool:
    """Two sentences are read as one only when the second opens with the link
    ("Give us a free dinner and I'll delete this review. Otherwise it stays.")."""
    cut = max(between.rfind(c) for c in ".!?;\n")
    return cut >= 0 and _OPENING_LINK.match(between[cut + 1:]) is not None


#: A condition or a trade, which the learned reading must find in its window.
_CONDITION = re.compile(
    # ("once" and "une fois", not "once again" or "encore une fois")
    r"\b(?:if|unless|until|till|otherwise|else|either|as\s+soon\s+as|(?<!for\s)(?<!at\s)once(?!\s+(?:again|more))|"
    r"the\s+moment|when(?!\s+(?:i|we|he|she|they)\s+(?:said|told|asked|saw|got|came|went|left|\w+ed)\b)|whenever|"
    r"in\s+exchange|in\s+return|for\s+the\s+price\s+of|deal|before|after\s+that|"
    r"or\s+(?:else|i|i'll|i'm|we|we'll|my|our|this|the|it|they|you|your|everyone|expect)|"
    r"si|s'il|sauf|a\s+moins|tant\s+que|jusqu'a(?!\s+(?:l'aube|minuit|midi|\d))|des\s+que|(?<!encore\s)(?<!pour\s)une\s+fois(?!\s+de\s+plus)|quand|sinon|(?<!que\s)(?<!ce\s)soit|"
    r"ou\s+(?:je|j'|bien|alors|nous|on|mon|ma|cet|cette|l'|tout|vous|les|elles?)|faute\s+de|"
    r"sans\s+quoi|contre|en\s+echange|moyennant|avant|passe\s+ce\s+delai|d'ici)\b|[=\u2192]|->"
    # bargaining and hints: "my rating is negotiable", "your call", "a vous de voir"
    r"|\b(?:negotiable|negociable|arrangement|arranger|terrain\s+d'entente|fair\s+trade|your\s+(?:call|choice)|"
    r"up\s+to\s+you|ball'?s\s+in\s+your\s+court|balle\s+est\s+dans\s+votre\s+camp|a\s+vous\s+de\s+(?:voir|jouer)|"
    r"(?:c'est\s+)?vous\s+qui\s+voyez|depends?|depend(?:ra|rait|raient)?|provisional|provisoire|temporary|temporaire|"
    r"go\s+a\s+long\s+way|reconsider|reconsiderer|a\s+bon\s+entendeur|just\s+saying|you\s+know\s+what\s+to\s+do|"
    r"vous\s+savez\s+ce\s+qu'il|on\s+(?:oublie|n'en\s+parle\s+plus)|between\s+us|entre\s+nous|on\s+the\s+table)\b"
    # formal conditions and trades: "should the hotel waive ...", "upon receipt of",
    # "... and I'll delete this", "annulez ... et je retire l'avis"
    r"|\b(?:should\s+(?:the|you|they|a|an|management|it|reception)|provided|upon\s+receipt|on\s+receipt|"
    r"in\s+that\s+case|after\s+which|til|'til|price|my\s+price|connect\s+the\s+dots|settle\s+this|"
    r"up\s+to\s+your|for\s+a\s+(?:full\s+|partial\s+)?(?:discount|refund|voucher|coupon|free)|"
    r"(?:and|n|\+)\s+(?:i|we)(?:'ll|\s+will|'d|\s+would|\s+shall)?\s+(?:\w+ly\s+)?(?:delete|remove|take|change|"
    r"update|edit|revise|replace|bump|pull|withdraw|swap|raise|amend)|and\s+ill|n\s+ill|and\s+(?:the|this|my)\s+(?:review|"
    r"rating|post|photos?|video)|or\s+(?:im|i'm|she'd|he'd|she|he|maybe)|no\s+\w+,?\s+(?:and|no)|"
    r"et\s+(?:je\s+|j'\s*|nous\s+|on\s+)(?:\w+\s+){0,2}?(?:retir|supprim|modifi|chang|enl[e\u00e8]v|remplac|efface|"
    r"revoi|reverr|remont|pass)\w*|a\s+defaut|sans\s+reponse|proposition|ca\s+marche|a\s+condition|"
    r"pour\s+peu|en\s+contrepartie|sous\s+reserve|si\s+jamais|des\s+reception|quand\s+un)\b"
    # more of the same, in French: "..., ou la vidéo part sur TikTok", "à cette condition",
    # "le jour où ...", "vous payez, j'efface", "... et ce commentaire disparaît", "et jenlève
    # mon com", "ma note serait naturellement révisée", "nous permettrait de garder ça pour nous",
    # "Sans remboursement, cette étoile reste en ligne"
    # ("où le tapis collait" folds to "ou le": "ou" and an article count after a comma only)
    r"|,\s*ou\s+(?:la|le|un|une|des|mes|ce|ces|votre|vos|ca)\b"
    r"|\b(?:ou\s+j[a-z]{3,}|a\s+cette\s+condition|"
    r"dans\s+ce\s+cas|des\s+lors|le\s+jour\s+ou|des\s+qu'|donnant|(?:un|simple)\s+echange|"
    r"echange\s+simple|quittes|dernier\s+mot|tout\s+se\s+jouera|sans\s+(?:ca|cela)|"
    r"et\s+(?:ce|cet|cette|mon|ma|l'|la|le|notre|nos|mes)\s+(?:avis|commentaire|note|message|texte|post|"
    r"evaluation|video|photos?)|et\s+j(?:en)?(?:retir|supprim|modifi|chang|enlev|efface|remplac|remont|pass)\w*|"
    r"(?:me|nous|m')\s*(?:permettrai|conduirai|aiderai|inciterai|pousserai|amenerai|ferai)(?:t|ent)?|"
    r"contribuerai(?:t|ent)?|serai(?:t|ent)?\s+(?:\w+\s+)?(?:revue?s?|revisee?s?|modifiee?s?|ajustee?s?|"
    r"remontee?s?|rehaussee?s?))\b"
    r"|\bvous\s+(?:me\s+|nous\s+)?\w+ez\b[^.!?;]{0,80},\s*(?:je\b|j')|(?:^|[.!?;:]\s*)sans\s+[^,.!?;]{1,40},"
    # and in English: "on condition that", "or every photo goes out", "would allow me to",
    # "and you get your stars back", "stars are earned, or bought back"
    r"|\b(?:on\s+condition|or\s+(?:every|all|one|a|an|half)|would\s+(?:\w+ly\s+)?(?:allow|help|let|give|"
    r"certainly|surely|do\s+wonders|make)|and\s+you(?:'ll)?\s+get|and\s+(?:this|it)\s+(?:comes|goes|"
    r"disappears|vanishes)|tends?\s+to|bought\s+back|offer\s+(?:still\s+)?stands|"
    r"depending)\b"
)
#: What might have been ("otherwise I would have given 3 stars", "j'aurais laissé 3
#: étoiles") is a complaint about the past; blackmail looks forward.
_COUNTERFACTUAL = re.compile(
    r"\b(?:would|could|should|might)(?:\s+not|n't)?\s+have\b|\b(?:i|we)'d\s+have\b|"
    r"\b(?:aurais|aurait|aurions|auraient)\b"
)
#: The review stays whatever happens ("Quelle que soit l'issue, cet avis restera en ligne",
#: "it stays up regardless"), or changes for others' sake ("once it is fixed for future
#: guests"): no bargain.
_REGARDLESS = re.compile(
    r"\b(?:quel(?:le)?s?\s+qu(?:e\s+|'en\s+)soi(?:t|ent)|quoi\s+qu'il\s+(?:arrive|advienne)|dans\s+tous\s+les\s+cas|"
    r"en\s+tout\s+etat\s+de\s+cause|regardless|no\s+matter\s+(?:what|how)|whatever\s+(?:happens|the\s+outcome)|"
    r"either\s+way|for\s+(?:future|other|the\s+next)\s+guests|pour\s+les\s+(?:prochains|futurs|autres)\s+clients)\b"
)
#: The business's own offer, reported by the guest ("Reception offered to knock 15%
#: off our bill if we wrote a 5-star review"; "ils nous ont proposé un avoir contre
#: la suppression de l'avis"): a condition about the review that is not the guest's.
_BUSINESS_OFFER = re.compile(
    r"\b(?:they|he|she|reception|management|the\s+(?:owner|manager|hotel|restaurant|staff|front\s+desk|"
    r"receptionist|chef|host|waiter|waitress)|l'hotel|le\s+(?:gerant|patron|proprietaire|restaurant|"
    r"directeur|chef|serveur)|la\s+(?:direction|reception|gerante|patronne|proprietaire|serveuse)|ils|elles?|"
    r"il)\s+(?:\w+\s+){0,5}?(?:offer(?:ed|ing)|propos(?:ed|ing)|ask(?:ed|ing)|suggest(?:ed|ing)|"
    r"promis(?:ed|ing)|tried\s+to|trying\s+to|wanted\s+(?:us|me)|"
    r"a\s+propose|ont\s+propose|a\s+offert|ont\s+offert|a\s+demande|ont\s+demande|a\s+suggere|"
    r"ont\s+suggere|a\s+promis|ont\s+promis|voulait|voulaient|hinted|implied|insinuated|"
    r"said\s+(?:he|she|they|we)(?:'d|\s+would|\s+could)\s+(?:\w+\s+)?(?:refund|give|offer|comp|waive|knock|"
    r"throw|upgrade|cover)|"
    r"(?:a|ont)\s+(?:laisse\s+entendre|fait\s+comprendre|sous-entendu))\b"
    # the offer in the passive or in the business's own quoted words: "on m'a proposé",
    # "« on vous offre le petit-déjeuner si ... »", "we were offered", "we'll give you ... if"
    r"|\bon\s+(?:m'a|nous\s+a|t'a)\s+(?:\w+\s+){0,2}?(?:propose|offert|suggere|demande)\b"
    r"|\bon\s+vous\s+(?:offre|propose|rembourse|offrira|proposera)\b"
    r"|\b(?:m'a|m'ont|nous\s+a|nous\s+ont)\s+ete\s+(?:propose|offert)e?s?\b"
    r"|\b(?:i|we)\s+(?:was|were)\s+(?:\w+\s+)?offered\b"
    r"|\bwe(?:'ll|\s+will|\s+can|\s+could|'d)\s+(?:\w+\s+)?(?:give|offer|refund|comp)\s+you\b"
)
#: The guest turning an offer down ("Un repas offert pour faire disparaître mon
#: commentaire ? Je ne mange pas de ce pain-là", "No thanks", "we refused"): the offer
#: was the business's, whoever it names.
_OFFER_REFUSED = re.compile(
    r"\b(?:non\s+merci|no\s+thanks?(?!\s+to\b)|no\s+thank\s+you|(?:i|we)\s+(?:said\s+no|refused|declined|"
    r"turned\s+(?:it|that|them)\s+down)|(?:j'ai|nous\s+avons|on\s+a)\s+(?:refuse|decline|dit\s+non)|"
    r"je\s+ne\s+mange\s+pas\s+de\s+ce\s+pain|hors\s+de\s+question|pas\s+question)\b"
)
#: What a hint without a condition word must be about: the review or opinion
#: changing ("a voucher would help me remember the good parts", "make this go away",
#: "mes souvenirs s'embelliraient"), not merely being posted ("I'll be posting this
#: everywhere" after a refused refund is a complaint).
_REVIEW_CHANGE = re.compile(
    r"go(?:es)?\s+away|disappear|vanish|improv|chang|forget|remember|memor|revis|updat|\bedit|delet|remov|"
    r"\braise|\bbump|amend|soften|kinder|nicer|reconsider|rethink|perspective|"
    r"dispar|oubli|amelior|modifi|revoir|reverr|retir|supprim|efface|adouci|embelli|remont|evolu|souvenir|"
    r"nuanc"
)
#: Compensation already granted ("They refunded me and I will change my review to 4
#: stars"): the guest thanks, the review follows, nothing is asked for.
_GRANTED = re.compile(
    r"\b(?:refunded|reimbursed|compensated)\s+(?:me|us)\b|\b(?:got|received|have\s+received|were\s+given)"
    r"\s+(?:a|my|our|the)\s+(?:full\s+|partial\s+)?(?:refund|compensation|voucher)|"
    r"\b(?:m'|nous\s+)ont\s+(?:rembourse|dedommage|indemnise)|\b(?:ai|avons|a)\s+ete\s+(?:rembourse|dedommage)|"
    r"\bremboursement\s+(?:recu|obtenu)"
)
#: What is at stake in blackmail: the review, its stars, or publicity.
_PUBLIC_OR_REVIEW = re.compile(
    r"review|rating|\bstars?\b|\bpost(?:s|ed|ing)?\b|publish|\bshar(?:e|ed|ing)\b|online|photo|picture|"
    r"video|footage|screenshot|follower|subscriber|google|yelp|tripadvisor|booking\.com|facebook|insta|"
    r"tiktok|youtube|reddit|twitter|forum|social|everyone|everybody|internet|website|\bsites?\b|"
    r"platform|channel|\b(?:this|it)\s+(?:stays|goes|disappears)|take\s+(?:\w+\s+)?down|delete|"
    r"\bavis\b|\bnote\b|etoile|commentaire|publi|partag|en\s+ligne|reseau|abonne|communaute|"
    r"t(?:ou)?t\s+le\s+monde|(?<!de\s)partout|chaine|plateforme|efface|supprim|evaluation|feedback|comments|"
    r"\bblog|newspaper|journal|column|\bstory|draft|brouillon|message|\btexte|\bcom\b|lecteur|article|"
    r"\bradio|emission|apprecia|jugement|internaute|chroniq|\btown\b|\btone\b|\bworld\b|raconter|"
    r"\b(?:bump|raise|move|change|put)\s+(?:this|it|you|that)\s+(?:up\s+)?to\b"
)
#: Cues that hold on their own or open a case (ml.extortion's strengths >= 0.8).
_STRONG_CODES = frozenset({"demand_with_threat", "conditional_threat", "review_as_leverage"})
#: The learned reading (ml.threat_text) makes a cue from this probability up: chosen
#: on texts it was not trained on so that no honest one among them reached it
#: (bench/cues.py, bench/RESULTS.md, issue 13).
THREAT_MODEL_MIN_PROBABILITY = 0.8


#: Where no window holds a condition word, the model must be surer, and the
#: window must be about the review changing (``_REVIEW_CHANGE``): hints and
#: implied bargains name no "if" or "or". Chosen, like the threshold above, on
#: texts the model was not trained on (bench/RESULTS.md, issue 13).
THREAT_MODEL_UNCONDITIONAL_MIN_PROBABILITY = 0.9


def _learned_cue(folded: str) -> list[tuple[int, int, str]]:
    """The model's strongest window as a cue, when it reads blackmail there: among
    the windows with a condition at ``THREAT_MODEL_MIN_PROBABILITY``, else among
    the hints at ``THREAT_MODEL_UNCONDITIONAL_MIN_PROBABILITY``."""
    from ml.threat_text import threat_model

    if _PUBLIC_OR_REVIEW.search(folded) is None:
        return []  # no window of it can be (one pass instead of one per window)
    if _BUSINESS_OFFER.search(folded) is not None or _OFFER_REFUSED.search(folded) is not None:
        # A guest reporting the business's offer, or turning one down: what
        # follows ("... and the review stays up") answers it. The patterns and
        # the clause pass still read such a text; the model does not.
        return []
    model = threat_model()
    window = None
    if _CONDITION.search(folded) is not None:
        window = model.strongest_window(folded, accept=_could_be_blackmail)
        if window is not None and window.probability < THREAT_MODEL_MIN_PROBABILITY:
            window = None
    if window is None and _REVIEW_CHANGE.search(folded) is not None:
        window = model.strongest_window(folded, accept=_could_be_a_hint)
        if window is not None and window.probability < THREAT_MODEL_UNCONDITIONAL_MIN_PROBABILITY:
            window = None
    if window is None:
        return []
    words = folded[window.start:window.end]
    code = "review_as_leverage" if _REVIEW_LEVER.search(words) else "demand_with_threat"
    return [(window.start, window.end, code)]


def _at_stake(words: str) -> bool:
    """The review or publicity at stake, and none of the readings that rule a
    bargain out."""
    return (_PUBLIC_OR_REVIEW.search(words) is not None and _COUNTERFACTUAL.search(words) is None
            and _GRANTED.search(words) is None and _REGARDLESS.search(words) is None)


def _could_be_a_hint(words: str) -> bool:
    """A window the model may read without a condition word: the review at stake
    and about to change ("a voucher would help me remember the good parts").
    Windows with a condition were read already (``_could_be_blackmail``): under
    ``THREAT_MODEL_MIN_PROBABILITY`` there, they cannot reach the higher bar here."""
    return (_CONDITION.search(words) is None and _REVIEW_CHANGE.search(words) is not None
            and _at_stake(words))


def _could_be_blackmail(words: str) -> bool:
    """Whether a window is worth the model's reading.

    "Annulé sans remboursement. Je publierai les photos sur Google": money and
    publicity side by side are a complaint; blackmail makes one depend on the
    other, so a condition is needed. "Refund me or I will write to your head
    office" escalates a complaint: the review or publicity must be at stake.
    What might have been is not a threat, nor is compensation already granted, nor a
    review that stays whatever happens.
    (A text that reports the business's own offer is not read at all:
    ``_learned_cue``.)"""
    return _CONDITION.search(words) is not None and _at_stake(words)


def _cues_of(text: str) -> list[Cue]:
    folded = fold(text)
    seen: dict[str, bool] = {}
    words: set[str] = set()

    def fired(name: str) -> bool:
        if name not in seen:
            if name in _STEMS:
                seen[name] = any(x in folded for x in _STEMS[name])
            elif name in _SUBSTRINGS:
                seen[name] = _SUBSTRINGS[name] in folded
            else:
                if not words:
                    words.update(_WORDS.findall(folded))
                seen[name] = not _WORD_TRIGGERS[name].isdisjoint(words)
        return seen[name]

    found: list[tuple[int, int, str]] = []
    for (code, pattern), needs in zip(_PATTERNS, _PATTERN_TRIGGER, strict=True):
        if all(fired(name) for name in needs):
            found.extend((m.start(), m.end(), code) for m in pattern.finditer(folded))
    if not any(code in _STRONG_CODES for _, _, code in found) and might_threaten(folded):
        # Something wanted and some leverage, in no order the patterns know: the
        # clause-level pass, then the learned reading.
        found.extend(c for c in _clause_cues(folded)
                     if not any(c[0] < end and start < c[1] for start, end, _ in found))
        if not any(code in _STRONG_CODES for _, _, code in found):
            found.extend(_learned_cue(folded))
    found.sort()
    cues: list[Cue] = []
    for start, end, code in found:
        # Several patterns can match one phrase: keep one cue per code and overlap.
        if any(c.code == code and start < c.span[1] and c.span[0] < end for c in cues):
            continue
        cues.append(Cue(code, (start, end), text[start:end]))
    return cues


def extortion_cues(texts: Sequence[str]) -> list[list[Cue]]:
    """Extortion cues found in each text (English and French), in text order.

    A cue needs a demand tied to a threat (``or``/``sinon``, ``if you don't``/
    ``si vous ne``, ``unless``/``a moins que``), a review offered as leverage,
    or an audience brandished as leverage: phrase patterns first, then, where
    none matched, a forward-looking demand, leverage and the word that ties them,
    in any order within one sentence (or two, the second opening with the tie:
    "... Otherwise it stays."), then the learned reading of ml/threat_text.py
    (``_learned_cue``). A complaint that merely mentions a
    refund ("I asked for a refund, they refused, so here is my review") has no
    cue. ``span`` indexes the original text.
    """
    return [_CUES.cues(text or "") for text in texts]


class _CueMemo(_RecentMemo):
    """The cues of recently seen texts.

    ``_cues_of`` is a pure function of the text, and report linkage reads the
    same candidate reviews again at every scoring batch near a live report: 30%
    of a worker's samples under ``bench.load``, re-finding the cues of texts it
    had seen seconds before.
    """

    def cues(self, text: str) -> list[Cue]:
        key = _text_key(text)
        found = self.rows.get(key)
        if found is None:
            found = tuple(_cues_of(text))
            self._remember(key, found)
        return list(found)


_CUES = _CueMemo(size=100_000)
