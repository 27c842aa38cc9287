"""Learn fusion weights and per-partner hold thresholds from moderators' decisions.

Input: the component scores that ``ml.fusion.review_risk`` fused for decided
reviews or cases (one column per component code, each in [0, 1]; a reason's
``score`` is its component), the decision (confirmed 1, dismissed 0), and the
partner. Output: a versioned, JSON-serialisable ``CalibrationModel`` with the
refitted weights (non-negative, in the logit units of ``ml.fusion``, so they
plug into its ``BIAS``, ``_SIGNALS`` weights and ``EXTRA_WEIGHTS``), one hold
threshold per partner with enough decisions (the global one otherwise), and
its figures on held-out decisions beside those of the current weights on the
same rows, so that ``not_worse_than`` can decide whether to switch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.stats import gamma as gamma_dist
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.utils.validation import check_random_state

__all__ = [
    "CalibrationModel",
    "PrecisionCurve",
    "component_matrix",
    "current_fusion_weights",
    "fit_calibration",
    "precision_at_recall",
    "same_share_threshold",
    "threshold_for_precision",
]

FORMAT = 2  # bump when the JSON layout changes
#: Formats ``from_json`` reads: 1 (no ``threshold_support``; thresholds chosen on
#: the point estimate of precision) and 2 (thresholds on its lower confidence bound).
READABLE_FORMATS = (1, 2)


def current_fusion_weights() -> tuple[dict[str, float], float]:
    """The weights and bias ``ml.fusion`` uses today: ({code: weight}, BIAS)."""
    from ml import fusion

    weights = {s.code: float(s.weight) for s in fusion._SIGNALS}
    weights.update({k: float(v) for k, v in fusion.EXTRA_WEIGHTS.items()})
    return weights, float(fusion.BIAS)


def component_matrix(
    reasons: Sequence[Sequence[Mapping[str, object]]], components: Sequence[str]
) -> np.ndarray:
    """(n, k) component scores from stored reasons (``{"code", "score"}`` dicts).

    Column j holds, per row, the score of the reason coded ``components[j]``
    (the highest if repeated), 0 where absent; scores are clipped to [0, 1].
    """
    column = {code: j for j, code in enumerate(components)}
    X = np.zeros((len(reasons), len(components)))
    for i, row in enumerate(reasons):
        for reason in row:
            j = column.get(str(reason.get("code")))
            if j is not None:
                X[i, j] = max(X[i, j], float(reason.get("score") or 0.0))
    return np.clip(X, 0.0, 1.0)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def precision_at_recall(y: np.ndarray, score: np.ndarray, recall: float) -> float:
    """Precision at the highest threshold whose recall reaches ``recall``."""
    y = np.asarray(y, dtype=bool)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-np.asarray(score), kind="stable")
    tp = np.cumsum(y[order])
    k = int(np.searchsorted(tp, np.ceil(recall * y.sum()), side="left"))
    return float(tp[k] / (k + 1))


@dataclass(frozen=True)
class PrecisionCurve:
    """Weighted totals of the decisions held at each distinct score t (highest
    first): ``confirmed[i]`` and ``dismissed[i]`` sum the weights of the
    confirmed, resp. dismissed, decisions with score >= ``thresholds[i]`` (the
    population they stand for), ``confirmed_sq``/``dismissed_sq`` the squared
    weights (their variance, each decision a Poisson draw of its weight),
    ``holds[i]`` how many rows that is; ``max_weight`` the largest weight, what
    one more decision that the sample happened to miss would stand for.
    """

    thresholds: np.ndarray
    confirmed: np.ndarray
    dismissed: np.ndarray
    confirmed_sq: np.ndarray
    dismissed_sq: np.ndarray
    holds: np.ndarray
    max_weight: float

    @classmethod
    def of(
        cls, y: np.ndarray, score: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> PrecisionCurve:
        y = np.asarray(y, dtype=bool)
        score = np.asarray(score, dtype=np.float64)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if len(y) == 0:
            empty = np.zeros(0)
            return cls(empty, empty, empty, empty, empty, np.zeros(0, dtype=np.int64), 0.0)
        order = np.argsort(-score, kind="stable")
        s, w, y = score[order], w[order], y[order]
        # Evaluate only at the end of each run of tied scores.
        ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]

        def total(x: np.ndarray) -> np.ndarray:
            return np.cumsum(x)[ends]

        return cls(
            s[ends],
            total(w * y),
            total(w * ~y),
            total(w * w * y),
            total(w * w * ~y),
            ends + 1,
            float(w.max()),
        )

    @property
    def precision(self) -> np.ndarray:
        """Weighted precision of the holds at each threshold."""
        held = self.confirmed + self.dismissed
        return np.divide(self.confirmed, held, out=np.zeros_like(held), where=held > 0)

    @property
    def n_eff(self) -> np.ndarray:
        """Kish's effective number of the held decisions at each threshold."""
        held = self.confirmed + self.dismissed
        sq = self.confirmed_sq + self.dismissed_sq
        return np.divide(held * held, sq, out=np.zeros_like(held), where=sq > 0)

    def lower_bound(self, confidence: float) -> np.ndarray:
        """One-sided lower confidence bound of the precision at each threshold:
        the confirmed total's lower over the sum of it and the dismissed total's
        upper bound, each at ``(1 + confidence) / 2``, by Fay and Feuer's gamma
        interval for weighted Poisson counts (1997). Their upper bound adds one
        unseen decision of ``max_weight``: where no heavily weighted decision (an
        audit standing for many reviews) happened to land, the population is not
        taken to hold no dismissed reviews. With unit weights these are
        Poisson (Garwood) bounds on the held counts: tighter, relative to the
        estimate, the more rows at the same rate."""
        tail = (1.0 - confidence) / 2.0
        return _bound_ratio(
            _gamma_lower(self.confirmed, self.confirmed_sq, tail),
            _gamma_upper(self.dismissed, self.dismissed_sq, self.max_weight, tail),
        )


def _gamma_lower(total: np.ndarray, sq: np.ndarray, tail: float) -> np.ndarray:
    shape = np.divide(total * total, sq, out=np.zeros_like(total), where=sq > 0)
    scale = np.divide(sq, total, out=np.ones_like(total), where=total > 0)
    return np.where(total > 0, gamma_dist.ppf(tail, np.maximum(shape, 1e-12)) * scale, 0.0)


def _gamma_upper(total: np.ndarray, sq: np.ndarray, w_max: float, tail: float) -> np.ndarray:
    w_max = max(w_max, 1e-12)
    shape = (total + w_max) ** 2 / (sq + w_max * w_max)
    scale = (sq + w_max * w_max) / (total + w_max)
    return gamma_dist.isf(tail, shape) * scale


def _bound_ratio(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.divide(lo, lo + hi, out=np.zeros_like(lo), where=lo + hi > 0)


def threshold_for_precision(
    y: np.ndarray,
    score: np.ndarray,
    target: float,
    *,
    min_holds: int = 5,
    sample_weight: np.ndarray | None = None,
    confidence: float | None = None,
    prior: PrecisionCurve | None = None,
    prior_strength: float = 0.0,
) -> float:
    """Lowest threshold t with precision of ``score >= t`` at least ``target``
    over at least ``min_holds`` rows (the most recall at that precision); +inf
    when no threshold reaches it. With ``sample_weight`` the precision is
    weighted (e.g. inverse probabilities of having been decided, so that
    decisions taken from the top of a queue do not make a low threshold look
    precise).

    With ``confidence`` (e.g. 0.9) the precision that must reach ``target`` is
    not the estimate but its one-sided lower confidence bound
    (``PrecisionCurve.lower_bound``: aware of how many decisions, and how
    heavily weighted, back it), so a threshold chosen from 20 decisions is more
    conservative than one from 2,000 at the same rate. ``prior`` (the curve of
    related decisions: all partners') and ``prior_strength`` shrink the bound
    at each threshold towards the prior's there, the more so the fewer
    effective decisions this sample holds there.
    """
    curve = PrecisionCurve.of(y, score, sample_weight)
    precision = _precision_or_bound(curve, confidence, prior, prior_strength)
    ok = (precision >= target) & (curve.holds >= min_holds)
    if not ok.any():
        return float("inf")
    return float(curve.thresholds[np.flatnonzero(ok)[-1]])


def _precision_or_bound(
    curve: PrecisionCurve,
    confidence: float | None,
    prior: PrecisionCurve | None = None,
    prior_strength: float = 0.0,
) -> np.ndarray:
    """Per threshold of ``curve``: its precision (``confidence`` None) or its
    lower bound, shrunk towards ``prior``'s."""
    if confidence is None:
        return curve.precision
    bound = curve.lower_bound(confidence)
    if prior is not None and prior_strength > 0 and len(prior.thresholds):
        bound = _shrunk(curve, bound, prior, prior.lower_bound(confidence), prior_strength)
    return bound


def _shrunk(
    curve: PrecisionCurve,
    value: np.ndarray,
    prior: PrecisionCurve,
    prior_value: np.ndarray,
    strength: float,
) -> np.ndarray:
    """``value`` (per threshold of ``curve``) pulled towards ``prior_value`` (per
    threshold of ``prior``, read at the same thresholds) with weight
    strength / (strength + curve's effective held decisions there)."""
    k = np.searchsorted(-prior.thresholds, -curve.thresholds, side="right") - 1
    there = np.where(k >= 0, prior_value[np.maximum(k, 0)], 0.0) if len(prior_value) else 0.0
    own = curve.n_eff / (curve.n_eff + strength)
    return own * value + (1.0 - own) * there


def _figures(y: np.ndarray, p: np.ndarray, threshold: float, recall: float) -> dict:
    y = np.asarray(y, dtype=np.int64)
    held = p >= threshold
    both = 0 < y.sum() < len(y)
    eps = 1e-12
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "log_loss": round(float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))), 5),
        "auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "ap": round(float(average_precision_score(y, p)), 4) if both else None,
        f"precision_at_recall_{recall:g}": round(precision_at_recall(y, p, recall), 4)
        if y.sum()
        else None,
        "holds": int(held.sum()),
        "hold_precision": round(float(y[held].mean()), 4) if held.any() else None,
        "hold_recall": round(float(y[held].sum() / y.sum()), 4) if y.sum() else None,
    }


@dataclass(frozen=True)
class CalibrationModel:
    """Refitted fusion weights and hold thresholds, with their held-out figures.

    ``probability(X) = sigmoid(bias + X @ weights)`` over ``components``; a row
    of partner ``p`` is held when its probability reaches
    ``partner_thresholds.get(p, global_threshold)``. ``heldout`` are this
    model's figures on the held-out decisions, ``baseline`` those of the
    weights it was warm-started from on the same rows. ``threshold_support``
    says, for the global threshold ("*") and each partner's, how the training
    decisions back it (holds, weighted precision and its lower bound, effective
    number of held decisions) and whether it was fitted, is the global one or
    keeps what the model in use held (format 2; empty in models read from
    format 1).
    """

    version: str
    components: tuple[str, ...]
    weights: dict[str, float]
    bias: float
    global_threshold: float
    partner_thresholds: dict[str, float]
    target_precision: float
    n_train: int
    heldout: dict
    baseline: dict
    params: dict = field(default_factory=dict)
    threshold_support: dict = field(default_factory=dict)
    format: int = FORMAT

    def coef(self) -> np.ndarray:
        """(k,) weights in ``components`` order."""
        return np.array([self.weights[c] for c in self.components])

    def probability(self, X: np.ndarray) -> np.ndarray:
        """(n,) probability that a moderator confirms each row of X (n, k)."""
        return _sigmoid(self.bias + np.asarray(X, dtype=np.float64) @ self.coef())

    def thresholds(self, partner: Sequence[object]) -> np.ndarray:
        """(n,) hold threshold of each row's partner."""
        return np.array(
            [self.partner_thresholds.get(str(p), self.global_threshold) for p in partner],
            dtype=np.float64,
        )

    def hold(self, X: np.ndarray, partner: Sequence[object]) -> np.ndarray:
        """(n,) bool: hold for a moderator."""
        return self.probability(X) >= self.thresholds(partner)

    def not_worse_than(
        self,
        current: CalibrationModel | None = None,
        *,
        X: np.ndarray | None = None,
        y: np.ndarray | None = None,
        tolerance: float = 0.0,
        min_heldout: int = 100,
    ) -> bool:
        """True when this model is at least as good as ``current`` on held-out data.

        Without ``X``/``y``: this model's ``heldout`` figures against its
        ``baseline`` (the weights it started from, on the same held-out rows).
        With ``X`` (n, k) and ``y`` (n,): both models evaluated on those rows
        (``current`` None: compare with ``baseline`` is impossible, so required).
        "Not worse" means average precision and held-out log loss each no worse
        than the current one's by more than ``tolerance``, on at least
        ``min_heldout`` decisions (fewer: False, too few to tell).
        """
        if X is None or y is None:
            mine, theirs = self.heldout, self.baseline
        else:
            if current is None:
                raise ValueError("pass the current model to compare on new rows")
            y = np.asarray(y)
            mine = _figures(y, self.probability(X), self.global_threshold, 0.5)
            theirs = _figures(y, current.probability(X), current.global_threshold, 0.5)
        if mine.get("ap") is None or theirs.get("ap") is None or mine["n"] < min_heldout:
            return False
        return (
            mine["ap"] >= theirs["ap"] - tolerance
            and mine["log_loss"] <= theirs["log_loss"] + tolerance
        )

    def to_json(self) -> str:
        """JSON text; ``from_json`` reads it back (infinite thresholds as null)."""
        data = asdict(self)
        data["components"] = list(self.components)
        data["global_threshold"] = _finite(self.global_threshold)
        data["partner_thresholds"] = {k: _finite(v) for k, v in self.partner_thresholds.items()}
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CalibrationModel:
        data = json.loads(text)
        if data.get("format") not in READABLE_FORMATS:
            raise ValueError(
                f"unknown calibration format {data.get('format')!r}: this code reads "
                f"formats {', '.join(map(str, READABLE_FORMATS))}; refit the model "
                "(manage.py calibrate) or upgrade"
            )
        data["components"] = tuple(data["components"])
        data["global_threshold"] = _infinite(data["global_threshold"])
        data["partner_thresholds"] = {
            k: _infinite(v) for k, v in data["partner_thresholds"].items()
        }
        return cls(**data)


def _finite(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def _infinite(x: float | None) -> float:
    return float("inf") if x is None else float(x)


def _fit_weights(
    X: np.ndarray,
    y: np.ndarray,
    w0: np.ndarray,
    b0: float,
    alpha: float,
    sample_weight: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Non-negative logistic regression shrunk towards (w0, b0): minimises the
    weighted mean log loss + alpha/2 * ||w - w0||^2 (L-BFGS-B with w >= 0)."""
    sw = sample_weight / sample_weight.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b, w = theta[0], theta[1:]
        z = b + X @ w
        p = _sigmoid(z)
        # log(1 + e^z) - y z, stably.
        value = float(sw @ (np.logaddexp(0.0, z) - y * z)) + 0.5 * alpha * float(
            (w - w0) @ (w - w0)
        )
        r = sw * (p - y)
        grad = np.r_[r.sum(), X.T @ r + alpha * (w - w0)]
        return value, grad

    bounds = [(None, None)] + [(0.0, None)] * X.shape[1]
    start = np.r_[b0, np.maximum(w0, 0.0)]
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return result.x[1:], float(result.x[0])


def _support(
    curve: PrecisionCurve,
    threshold: float,
    source: str,
    confidence: float | None,
    prior: PrecisionCurve | None = None,
    prior_strength: float = 0.0,
) -> dict:
    """How the training decisions back ``threshold``: rows held, the weighted
    precision there and its lower bound, the decisions' effective sample size,
    and whether the threshold was fitted ("fit"), is all partners' ("global") or
    the one in use ("current")."""
    k = int(np.searchsorted(-curve.thresholds, -threshold, side="right")) - 1
    held = k >= 0
    bound = (
        _precision_or_bound(curve, confidence, prior, prior_strength)
        if confidence is not None and held
        else None
    )
    return {
        "threshold": _finite(threshold),
        "source": source,
        "holds": int(curve.holds[k]) if held else 0,
        "precision": round(float(curve.precision[k]), 4) if held else None,
        "lower_bound": round(float(bound[k]), 4) if bound is not None else None,
        "n_eff": round(float(curve.n_eff[k]), 1) if held else 0.0,
    }


def same_share_threshold(
    score: np.ndarray,
    current_score: np.ndarray,
    current_threshold: float,
    sample_weight: np.ndarray | None = None,
) -> float:
    """The threshold on ``score`` holding the same weighted share of rows as
    ``current_score >= current_threshold`` does (the highest such one; +inf when
    that holds nothing)."""
    score = np.asarray(score, dtype=np.float64)
    w = np.ones(len(score)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    share = float(w[np.asarray(current_score) >= current_threshold].sum())
    if share <= 0 or not len(score):
        return float("inf")
    order = np.argsort(-score, kind="stable")
    k = int(np.searchsorted(np.cumsum(w[order]), share * (1 - 1e-12), side="left"))
    return float(score[order][min(k, len(score) - 1)])


def _hold_thresholds(
    y: np.ndarray,
    score: np.ndarray,
    partner: np.ndarray,
    w: np.ndarray,
    *,
    target: float,
    current_threshold: float,
    current_score: np.ndarray,
    min_holds: int,
    min_partner_decisions: int,
    confidence: float | None,
    partner_prior_strength: float,
) -> tuple[float, dict[str, float], dict[str, dict]]:
    """(global threshold, {partner: threshold}, {"*" or partner: support})."""
    global_t = threshold_for_precision(
        y, score, target, min_holds=min_holds, sample_weight=w, confidence=confidence
    )
    source = "fit"
    if confidence is not None and not np.isfinite(global_t):
        # Nothing supported: change nothing. The threshold in use is in the
        # units of the weights in use, so keep what it holds instead: the
        # threshold holding the same weighted share of the decided population.
        global_t, source = (
            same_share_threshold(score, current_score, current_threshold, w),
            "current",
        )
    prior = PrecisionCurve.of(y, score, w)
    support = {"*": _support(prior, global_t, source, confidence)}
    partner_t: dict[str, float] = {}
    for name in np.unique(partner).tolist():
        rows = partner == name
        if not (rows.sum() >= min_partner_decisions and 0 < y[rows].sum() < rows.sum()):
            continue
        kw = dict(prior=prior, prior_strength=partner_prior_strength) if confidence else {}
        t = threshold_for_precision(
            y[rows],
            score[rows],
            target,
            min_holds=min_holds,
            sample_weight=w[rows],
            confidence=confidence,
            **kw,
        )
        if np.isfinite(t):
            partner_t[name] = t
        curve = PrecisionCurve.of(y[rows], score[rows], w[rows])
        support[name] = _support(
            curve,
            partner_t.get(name, global_t),
            "fit" if name in partner_t else "global",
            confidence,
            **kw,
        )
    return global_t, partner_t, support


def fit_calibration(
    X: np.ndarray,
    y: np.ndarray,
    partner: Sequence[object],
    *,
    components: Sequence[str],
    current_weights: Mapping[str, float],
    current_bias: float,
    current_threshold: float = 0.7,
    target_precision: float = 0.9,
    min_partner_decisions: int = 50,
    min_holds: int = 5,
    confidence: float | None = 0.9,
    partner_prior_strength: float = 20.0,
    heldout_share: float = 0.3,
    alpha: float = 0.01,
    recall: float = 0.5,
    sample_weight: np.ndarray | None = None,
    population_weight: np.ndarray | None = None,
    random_state: int | np.random.RandomState | None = 0,
    version: str | None = None,
) -> CalibrationModel:
    """Refit the fusion weights and per-partner hold thresholds from decisions.

    Parameters
    ----------
    X : (n, k) component scores in [0, 1], columns ``components``.
    y : (n,) 1 confirmed, 0 dismissed.
    partner : (n,) partner ids (any hashable; kept as strings).
    components : k component codes (``ml.fusion`` codes).
    current_weights, current_bias : the weights in use (``current_fusion_weights``);
        the fit starts from them and is shrunk towards them with ``alpha``.
    current_threshold : the hold threshold in use (``ml.fusion.HOLD_THRESHOLD``).
    target_precision : thresholds are the lowest reaching this precision on the
        training decisions, with at least ``min_holds`` holds: the one-sided
        lower confidence bound (``confidence``) of the population-weighted
        precision reaching it (``PrecisionCurve.lower_bound``: fewer or more
        heavily weighted decisions, a wider bound). When no threshold is supported the
        global one changes nothing: it holds the same weighted share of the
        decisions as ``current_threshold`` does with the current weights
        (``same_share_threshold``); a partner's is the global one.
    confidence : level of that one-sided bound; None chooses on the estimate
        itself (the rule of format 1 models, which overshoots on few decisions).
    partner_prior_strength : a partner's bound at each threshold is shrunk
        towards all partners' there, weighing theirs ``partner_prior_strength``
        against the partner's effective number of held decisions, so a partner
        with few decisions mostly follows the global curve.
    min_partner_decisions : training decisions a partner needs (and both
        outcomes) for a threshold of its own; else the global one.
    heldout_share : decisions kept out of the fit, stratified by partner and
        outcome, for the figures and ``not_worse_than``.
    alpha : strength of the pull towards the current weights.
    recall : the recall at which ``heldout`` reports precision.
    sample_weight : (n,) weights of the decisions in the fit of the weights.
        Decisions picked by score from a queue select on X only, which leaves
        P(confirmed | X) unbiased: no weighting is needed there.
    population_weight : (n,) how many reviews each decision stands for (inverse
        probability of being decided: a random audit stands for the many open
        reviews it was drawn from, a queue decision for itself). Thresholds are
        chosen for the precision they reach on that population, not among the
        decisions, which the queue concentrates at the top.
    random_state : seed of the held-out split.
    version : model version; default a hash of its content.

    Returns
    -------
    CalibrationModel
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    partner = np.array([str(p) for p in partner], dtype=object)
    components = tuple(components)
    if X.ndim != 2 or X.shape != (len(y), len(components)) or len(partner) != len(y):
        raise ValueError("X must be (n, len(components)); y and partner (n,)")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must be 0 (dismissed) or 1 (confirmed)")
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    pw = np.ones(len(y)) if population_weight is None else np.asarray(population_weight, np.float64)
    rng = check_random_state(random_state)

    # Stratified held-out split: within each (partner, outcome) stratum.
    _, stratum = np.unique(
        np.c_[partner.astype(str), y.astype(int).astype(str)], axis=0, return_inverse=True
    )
    stratum = stratum.reshape(-1)
    u = rng.random_sample(len(y))
    rank = np.empty(len(y))
    for s in np.unique(stratum):
        rows = np.flatnonzero(stratum == s)
        rank[rows[np.argsort(u[rows], kind="stable")]] = (np.arange(len(rows)) + 0.5) / len(rows)
    test = rank < heldout_share
    train = ~test
    if len(np.unique(y[train])) < 2:
        raise ValueError("the training decisions need both outcomes")

    w0 = np.array([float(current_weights.get(c, 0.0)) for c in components])
    w, b = _fit_weights(X[train], y[train], w0, float(current_bias), alpha, sw[train])
    p_train = _sigmoid(b + X[train] @ w)
    global_t, partner_t, support = _hold_thresholds(
        y[train],
        p_train,
        partner[train],
        pw[train],
        target=target_precision,
        current_threshold=float(current_threshold),
        current_score=_sigmoid(float(current_bias) + X[train] @ w0),
        min_holds=min_holds,
        min_partner_decisions=min_partner_decisions,
        confidence=confidence,
        partner_prior_strength=partner_prior_strength,
    )

    p_test = _sigmoid(b + X[test] @ w)
    t_test = np.array([partner_t.get(q, global_t) for q in partner[test]])
    heldout = _figures(y[test], p_test, 0.0, recall)
    held = p_test >= t_test
    heldout.update(
        holds=int(held.sum()),
        hold_precision=round(float(y[test][held].mean()), 4) if held.any() else None,
        hold_recall=round(float(y[test][held].sum() / y[test].sum()), 4) if y[test].sum() else None,
    )
    base_p = _sigmoid(float(current_bias) + X[test] @ w0)
    baseline = _figures(y[test], base_p, current_threshold, recall)
    weights = {c: round(float(v), 6) for c, v in zip(components, w, strict=True)}
    content = json.dumps([weights, round(b, 6), partner_t, global_t], sort_keys=True, default=str)
    return CalibrationModel(
        version=version or "cal-" + hashlib.sha256(content.encode()).hexdigest()[:12],
        components=components,
        weights=weights,
        bias=round(b, 6),
        global_threshold=global_t,
        partner_thresholds=partner_t,
        target_precision=target_precision,
        threshold_support=support,
        n_train=int(train.sum()),
        heldout=heldout,
        baseline=baseline,
        params={
            "alpha": alpha,
            "heldout_share": heldout_share,
            "min_partner_decisions": min_partner_decisions,
            "min_holds": min_holds,
            "current_threshold": current_threshold,
            "confidence": confidence,
            "partner_prior_strength": partner_prior_strength,
            "random_state": random_state if isinstance(random_state, int) else None,
        },
    )
