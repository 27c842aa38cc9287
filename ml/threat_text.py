"""Blackmail language learned from labelled reviews (English and French).

ml.text's phrase patterns name the word orders they know ("refund me or I will
post ..."). Guests write blackmail in many more: "the review goes away when the
money comes back", "Geste commercial = avis modifié", "for the price of our stay
back, this one disappears". This model reads the rest: a review that makes
itself (posted, kept, changed, removed, its stars) or publicity the price of
something of value, whatever the word order, against honest anger that talks
about refunds, stars and photos too ("I asked for a refund and was refused, one
star", "they offered a discount if we deleted our review; we refused").

- Features: TF-IDF of word 1-3 grams and of character 2-5 grams within words,
  over the folded text (lower case, no accents) with every number written 0.
- Classifier: logistic regression, trained once per process on
  ``ml/data/threat_texts.json`` (1-2 s; deterministic). A Celery worker
  trains it before its pool forks (reviewguard/celery.py).
- A text is read window by window (each sentence, two adjacent ones, and a
  short text whole; ml.text passes only the windows worth reading): the
  strongest window is the text's reading, so a condition buried in a long
  complaint is not diluted by the rest, and it is what a moderator is shown.
- Only texts that name both something wanted (money, a refund, a discount, a
  free night ...) and some leverage (a review, stars, photos, followers, a site)
  are read at all; the rest (nearly every review) cost a few set lookups.

Figures (recall, false cues, on texts it was not trained on): bench/cues.py and
bench/RESULTS.md (issue 13).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression

__all__ = ["SENTENCE", "TRAINING_TEXTS", "ThreatTextModel", "Window", "might_threaten", "threat_model"]

TRAINING_TEXTS = Path(__file__).resolve().parent / "data" / "threat_texts.json"

# Something wanted, and some leverage: both must appear before a text is read.
# Words are matched by their beginnings (``_STEMS``) or whole (``_EXACT``), over
# the set of the text's words: a few set lookups per word, where one regular
# expression of all these alternatives cost ~0.1 ms a review.
_WANTED_STEMS = (
    "refund", "reimburs", "compensat", "money", "cash", "voucher", "discount", "credit", "waive",
    "deposit", "upgrade", "comped", "complimentary", "charge", "gift", "invoice", "wage", "dollar",
    "rembour", "dedommag", "indemni", "geste", "reduc", "remise", "ristourne", "argent", "offr", "offert",
    "gratuit", "acompte", "surclass", "recredit", "annulez", "prelevement", "rendez", "rendre",
    "supplement", "factur", "addition", "montant", "virement", "coupon", "knock", "billing",
    "accounting", "penalit", "gesture", "wallet", "caution", "cadeau", "invit", "payez", "payer",
    "restitu", "sonnant", "venmo", "folio", "rabais", "reclam",
    # no object named, but a bargain offered: "my rating is open to discussion", "note négociable"
    "negoti", "negocia", "arrang", "discuss",
)
_WANTED_EXACT = frozenset({
    "comp", "pay", "paid", "cover", "free", "fee", "fees", "bill", "euro", "euros", "eur", "buck",
    "bucks", "quid", "franc", "francs", "frais", "avoir", "rends", "balles", "back", "off", "comps", "tab",
    "deal",
})
_LEVER_STEMS = (
    "review", "rating", "publish", "publier", "publie", "publication", "share", "sharing",
    "online", "photo", "picture", "video", "footage", "screenshot", "follower", "subscriber",
    "google", "yelp", "tripadvisor", "facebook", "insta", "tiktok", "youtube", "reddit", "twitter",
    "forum", "social", "everyone", "everybody", "internet", "website", "platform", "channel",
    "delete", "remove", "warned", "writ", "telling", "etoile", "commentaire", "partag", "reseau",
    "abonne", "communaute", "partout", "chaine", "groupe", "plateforme", "efface", "supprim",
    "retir", "ecri", "critique", "prevenu", "poste", "evaluation", "feedback", "comment", "blog",
    "newspaper", "journal", "column", "stories", "draft", "brouillon", "apprecia", "article",
    "lecteur", "temoign", "internaute", "chroniq", "enlev", "reader", "opinion", "perspective",
    "raconter", "souvenir", "memory", "forget", "oubli", "remember", "chat", "amend",
)
_LEVER_EXACT = frozenset({
    "star", "stars", "post", "posts", "posted", "posting", "site", "sites", "note", "avis", "world",
    "else", "ligne", "monde", "tell", "story", "edit", "up", "piece", "com", "texte", "radio",
})
_WORD = re.compile(r"[a-z0-9]+")
_CURRENCY = re.compile(r"[$\u20ac\u00a3%]")


def _stem_index(stems: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for stem in stems:
        index.setdefault(stem[:3], []).append(stem)
    return {k: tuple(v) for k, v in index.items()}


_WANTED_INDEX = _stem_index(_WANTED_STEMS)
_LEVER_INDEX = _stem_index(_LEVER_STEMS)


def _names(words: set[str], index: dict[str, tuple[str, ...]], exact: frozenset[str]) -> bool:
    if not exact.isdisjoint(words):
        return True
    for word in words:
        stems = index.get(word[:3])
        if stems is not None and word.startswith(stems):
            return True
        if word[:1] == "j" and len(word) > 3:
            # Text-speak drops the apostrophe: "jefface", "jpost" (j'efface, j'post).
            stems = index.get(word[1:4])
            if word[1:] in exact or (stems is not None and word[1:].startswith(stems)):
                return True
    return False


#: Words for the word n-grams: letters and digits, with an apostrophe inside.
_WORD_NGRAM_PATTERN = r"(?u)\b\w[\w']*\b"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
#: A sentence with the punctuation that ends it (ml.text's clause pass reads the same).
SENTENCE = re.compile(r"[^.!?\n;]+[.!?\n;]*")
#: Texts up to this many sentences are also read whole (a longer one by its windows).
WHOLE_TEXT_SENTENCES = 4


def might_threaten(folded: str, words: set[str] | None = None) -> bool:
    """Whether a folded text names something wanted and some leverage (else it is
    not read); ``words``: its words, when the caller has them already."""
    if words is None:
        words = set(_WORD.findall(folded))
    return (_names(words, _LEVER_INDEX, _LEVER_EXACT)
            and (_CURRENCY.search(folded) is not None or _names(words, _WANTED_INDEX, _WANTED_EXACT)))


def _prepare(folded: str) -> str:
    return _NUMBER.sub("0", folded)


@dataclass(frozen=True)
class Window:
    start: int  # offsets into the text
    end: int
    probability: float


class ThreatTextModel:
    """Logistic regression over word and character n-grams (see the module doc)."""

    def __init__(self, c: float = 4.0, random_state: int = 0) -> None:
        self.c = c
        self.random_state = random_state

    def fit(self, folded_texts: list[str], labels: np.ndarray) -> ThreatTextModel:
        prepared = [_prepare(t) for t in folded_texts]
        self.counters_ = (
            CountVectorizer(ngram_range=(1, 3), min_df=2, token_pattern=_WORD_NGRAM_PATTERN),
            CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2),
        )
        self.weights_ = tuple(TfidfTransformer(sublinear_tf=True) for _ in self.counters_)
        x = hstack([w.fit_transform(c.fit_transform(prepared))
                    for c, w in zip(self.counters_, self.weights_, strict=True)]).tocsr()
        self.classifier_ = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000,
                                              random_state=self.random_state)
        self.classifier_.fit(x, np.asarray(labels, dtype=np.int64))
        return self

    def probability(self, folded_texts: list[str]) -> np.ndarray:
        """P(blackmail) of each whole text."""
        return self._probability_of_counts(
            [c.transform([_prepare(t) for t in folded_texts]) for c in self.counters_])

    def _probability_of_counts(self, counts: list) -> np.ndarray:
        """The classifier's probability for rows of raw n-gram counts, computed
        directly (sublinear tf, idf, l2 per block, then the linear model): the
        same numbers as the fitted transformers and ``predict_proba``, without
        their per-call overhead (most of the cost for a few short windows)."""
        coef = self.classifier_.coef_.ravel()
        logit = np.full(counts[0].shape[0], float(self.classifier_.intercept_[0]))
        offset = 0
        for n, weights in zip(counts, self.weights_, strict=True):
            x = csr_matrix(n, dtype=np.float64, copy=True)
            x.data = (1.0 + np.log(x.data)) * weights.idf_[x.indices]
            norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
            width = len(weights.idf_)
            logit += (x @ coef[offset:offset + width]) / np.where(norm > 0, norm, 1.0)
            offset += width
        return 1.0 / (1.0 + np.exp(-logit))

    def strongest_window(self, folded: str,
                         accept: Callable[[str], bool] | None = None) -> Window | None:
        """The window of ``folded`` the model finds most threatening, and its
        probability; None when no window is ``accept``-ed.

        Windows are each sentence, each two adjacent ones, and the whole text when
        it has at most ``WHOLE_TEXT_SENTENCES``. ``accept`` (a window's folded text
        -> bool) keeps only the windows worth reading: only their sentences are
        counted, each once, and a window's n-gram counts are the sum of its
        sentences' (n-grams across a sentence break are not counted)."""
        spans = [m.span() for m in SENTENCE.finditer(folded) if m.group().strip()] or [(0, len(folded))]
        n = len(spans)
        rows = [[k] for k in range(n)] + [[k, k + 1] for k in range(n - 1)]
        if 2 < n <= WHOLE_TEXT_SENTENCES:
            rows.append(list(range(n)))
        if accept is not None:
            rows = [r for r in rows if accept(folded[spans[r[0]][0]:spans[r[-1]][1]])]
            if not rows:
                return None
        used = sorted({k for r in rows for k in r})
        column = {k: i for i, k in enumerate(used)}
        member = csr_matrix(
            (np.ones(sum(map(len, rows))),
             (np.repeat(np.arange(len(rows)), [len(r) for r in rows]),
              [column[k] for r in rows for k in r])),
            shape=(len(rows), len(used)))
        sentences = [_prepare(folded[spans[k][0]:spans[k][1]]) for k in used]
        probability = self._probability_of_counts(
            [member @ c.transform(sentences) for c in self.counters_])
        best = int(np.argmax(probability))
        start, end = spans[rows[best][0]][0], spans[rows[best][-1]][1]
        text = folded[start:end]
        start += len(text) - len(text.lstrip())
        end -= len(text) - len(text.rstrip())
        return Window(start, end, float(probability[best]))


def _load_training(path: Path = TRAINING_TEXTS) -> tuple[list[str], np.ndarray]:
    from ml.text import fold

    data = json.loads(path.read_text(encoding="utf-8"))
    texts = [fold(t) for t in data["extortion"]] + [fold(t) for t in data["honest"]]
    labels = np.r_[np.ones(len(data["extortion"])), np.zeros(len(data["honest"]))]
    return texts, labels.astype(np.int64)


_model: ThreatTextModel | None = None
_model_lock = threading.Lock()


def threat_model() -> ThreatTextModel:
    """This process's model, trained on the shipped texts at first use."""
    global _model
    with _model_lock:
        if _model is None:
            _model = ThreatTextModel().fit(*_load_training())
        return _model
