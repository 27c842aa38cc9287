"""Fuse per-review signals into one risk in [0, 1], with the reasons behind it.

Each signal maps to a bounded component in [0, 1] by a documented ramp; the
components are combined by a weighted logistic, so that one signal alone stays
well below the hold threshold (an honest angry first-time reviewer must never be
buried) and only corroborating signals together push a review above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ml.features import FeatureMatrix

#: Logit of a review on which no signal fired: sigmoid(-3.5) = 0.029.
BIAS = -3.5


@dataclass(frozen=True)
class Reason:
    """Why a score is what it is: a stable code, its strength, and the raw values
    a sentence needs (``{"value": 3.0}``, ``{"members": 6, "pairs": 15}``)."""

    code: str  # stable snake_case code, e.g. "new_account", "rating_deviation"
    score: float  # this signal's component (or the finding's strength) in [0, 1]
    values: dict = field(default_factory=dict)  # JSON-safe numbers, strings or lists


@dataclass(frozen=True)
class RiskResult:
    score: np.ndarray  # float64 shape (n,), in [0, 1]
    reasons: list[list[Reason]]  # per row, strongest first; only signals that fired


#: Every code this module's reasons carry. ``Reason.values["value"]`` is the
#: signal's raw value (days, stars, reviews, reviewers) or, for components
#: fused through ``extra``, the component score in [0, 1]. Sentences are the
#: apps' business (apps/core/reasons.py): ml/ speaks no language.
REASON_CODES: tuple[str, ...] = (
    "new_account", "first_review", "rating_deviation", "review_burst", "unverified_stay",
    "shared_email", "shared_device", "shared_ip", "shared_ip24",
    "extortion_report", "extortion_text", "near_duplicate_text", "ring_member",
    "review_bombing", "anomaly_rank",
)


@dataclass(frozen=True)
class _Signal:
    code: str
    feature: str  # feature column it reads (for behavioural signals)
    low: float  # component 0 at or beyond this raw value ...
    high: float  # ... rising linearly to 1 at this raw value
    weight: float  # logit added when the component is 1
    group: str  # correlated signals share a group: only the strongest counts
    absolute: bool = False


# Thresholds (raw units in parentheses), weights in logit units. Calibration:
# nothing fired -> 0.029; one behavioural signal alone -> at most 0.18;
# a new account's lone 1-star review far below the mean (newcomer + deviation,
# + unverified stay) -> 0.38-0.50; a new account writing 5+ reviews in a day,
# all far from the means (newcomer + deviation + burst) -> 0.82.
_SIGNALS: tuple[_Signal, ...] = (
    # Account younger than 2 days: 1; fades to 0 at 14 days.
    _Signal("new_account", "account_age_days", 14.0, 2.0, 1.5, "newcomer"),
    # The account's first review. Weaker, and it is the same evidence as a new
    # account, so the two share a group.
    _Signal("first_review", "first_review_of_account", 0.0, 1.0, 0.75, "newcomer"),
    # Rating 1.5 stars from the others' mean: 0; 3 stars or more: 1.
    _Signal("rating_deviation", "rating_deviation", 1.5, 3.0, 1.5, "rating", absolute=True),
    # 2 reviews in 24 h: 0; 5 or more: 1.
    _Signal("review_burst", "reviewer_max_reviews_per_day", 2.0, 5.0, 2.0, "burst"),
    # No booking reference, when the partner sends that field at all.
    _Signal("unverified_stay", "verified_stay", 1.0, 0.0, 0.5, "stay"),
    # Another account on the same email is already strong.
    _Signal("shared_email", "email_shared_reviewers", 0.0, 1.0, 2.0, "identity"),
    # Devices: 1 other account 0.5, 2 or more 1.
    _Signal("shared_device", "device_shared_reviewers", 0.0, 2.0, 2.0, "identity"),
    # IPs are shared by hotel wifi and carrier NAT: 2 others 0, 10 others 1.
    _Signal("shared_ip", "ip_shared_reviewers", 2.0, 10.0, 1.5, "identity"),
    _Signal("shared_ip24", "ip24_shared_reviewers", 5.0, 25.0, 1.0, "identity"),
)

# Weights of components fused through ``extra``. Two kinds of evidence hold a
# review on their own, for a moderator to decide (never removal):
# - a credible threat report linked to the review, independent evidence from
#   the owner (sigmoid(-3.5 + 4.5) = 0.73);
# - the review's own text making an explicit demand with a threat ("refund me or
#   this stays", cue strength 0.9: sigmoid(-3.5 + 5 * 0.9) = 0.73). The cue
#   extractor does not fire on complaints that merely mention a refusal, and a
#   weaker cue (audience leverage, 0.4 -> 0.18) still needs corroboration.
# Every other component needs corroboration.
EXTRA_WEIGHTS: dict[str, float] = {
    "extortion_report": 4.5,
    "extortion_text": 5.0,
    "near_duplicate_text": 2.0,
    "ring_member": 4.5,
    "review_bombing": 4.5,
    "anomaly_rank": 1.5,
}
_DEFAULT_EXTRA_WEIGHT = 1.5


def review_risk(
    features: FeatureMatrix,
    *,
    extra: dict[str, np.ndarray] | None = None,
    with_reasons: bool = True,
    weights: dict[str, float] | None = None,
    bias: float | None = None,
) -> RiskResult:
    """Risk in [0, 1] per review row of ``features`` (see ``ml.features.review_features``).

    ``extra`` maps a component name to per-row scores in [0, 1] (NaN: not
    scored); known names are listed in ``EXTRA_WEIGHTS``, any other name is fused
    with a default weight under its own code. Signals whose feature column is
    missing are skipped. Correlated signals (``group``) contribute only their
    strongest member. ``score = sigmoid(BIAS + sum of weight * component)``.
    ``weights`` (by code) and ``bias`` replace the built-in ones, e.g. with a
    model refitted from moderators' decisions (ml/calibration.py); codes they
    do not name keep their built-in weight.
    Reasons list every signal with a component > 0, strongest contribution first
    (ties by catalogue order). Deterministic.
    """
    n = len(features)
    entries: list[tuple[str, str, np.ndarray, np.ndarray, float]] = []
    # (code, group, component, raw value, weight)
    for signal in _SIGNALS:
        if signal.feature not in features.names:
            continue
        raw = features.column(signal.feature).astype(np.float64)
        if signal.absolute:
            raw = np.abs(raw)
        weight = (weights or {}).get(signal.code, signal.weight)
        entries.append((signal.code, signal.group, _ramp(raw, signal.low, signal.high), raw, weight))
    for name, values in sorted((extra or {}).items()):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (n,):
            raise ValueError(f"extra[{name!r}] has shape {values.shape}, expected ({n},)")
        component = np.nan_to_num(values, nan=0.0)
        if (component < 0).any() or (component > 1).any():
            raise ValueError(f"extra[{name!r}] must lie in [0, 1]")
        weight = (weights or {}).get(name, EXTRA_WEIGHTS.get(name, _DEFAULT_EXTRA_WEIGHT))
        entries.append((name, f"extra:{name}", component, component, weight))

    score = _fuse(n, [(group, weight * component) for _, group, component, _, weight in entries],
                  BIAS if bias is None else bias)

    reasons: list[list[Reason]] = [[] for _ in range(n)]
    if with_reasons and entries:
        component = np.column_stack([e[2] for e in entries])
        contribution = component * np.array([e[4] for e in entries])
        rows, which = np.nonzero(component > 0)
        # Strongest first, then catalogue order: sort by (row, -contribution, which).
        order = np.lexsort((which, -contribution[rows, which], rows))
        for row, j in zip(rows[order].tolist(), which[order].tolist(), strict=True):
            code, _, comp, raw, _ = entries[j]
            reasons[row].append(_reason(code, float(comp[row]), float(raw[row])))
    return RiskResult(score=score, reasons=reasons)


def _fuse(n: int, contributions: list[tuple[str, np.ndarray]], bias: float = BIAS) -> np.ndarray:
    """sigmoid(bias + sum over groups of the group's strongest contribution)."""
    logit = np.full(n, bias)
    group_best: dict[str, np.ndarray] = {}
    for group, contribution in contributions:
        group_best[group] = np.maximum(group_best.get(group, 0.0), contribution)
    for best in group_best.values():
        logit = logit + best
    return 1.0 / (1.0 + np.exp(-logit))


_SIGNAL_BY_CODE = {s.code: s for s in _SIGNALS}


def is_component(code: str) -> bool:
    """Whether ``code`` is a fused component (a behavioural signal or a known extra)."""
    return code in _SIGNAL_BY_CODE or code in EXTRA_WEIGHTS


def fuse_components(components: dict[str, np.ndarray], *, weights: dict[str, float] | None = None,
                    bias: float | None = None) -> np.ndarray:
    """Risk from component values already in [0, 1], keyed by code.

    The same fusion as ``review_risk``, for callers that kept the components
    (the ``score`` of each reason it returned) and add one more later, e.g. a
    threat report linked after the review was published. Unknown codes are
    fused like unknown extras.
    """
    lengths = {len(np.atleast_1d(v)) for v in components.values()}
    n = lengths.pop() if lengths else 1
    contributions = []
    for code, values in components.items():
        component = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
        signal = _SIGNAL_BY_CODE.get(code)
        if signal is not None:
            weight = (weights or {}).get(code, signal.weight)
            contributions.append((signal.group, weight * component))
        else:
            weight = (weights or {}).get(code, EXTRA_WEIGHTS.get(code, _DEFAULT_EXTRA_WEIGHT))
            contributions.append((f"extra:{code}", weight * component))
    return _fuse(n, contributions, BIAS if bias is None else bias)


def _ramp(raw: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 at ``low``, 1 at ``high`` (either direction), linear between; NaN -> 0."""
    component = np.clip((raw - low) / (high - low), 0.0, 1.0)
    return np.nan_to_num(component, nan=0.0)


def _reason(code: str, component: float, value: float) -> Reason:
    return Reason(code, component, {"value": value})
