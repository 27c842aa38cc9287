"""The hold rule, in one place.

A review is held for a moderator when its one fused risk (ml/fusion.py) reaches
its partner's threshold, or the service default; otherwise it is published.
Every signal — behaviour, text, threat reports, rings, bursts, anomaly rank —
reaches the decision only as a component of that risk. Nothing is ever removed
automatically: removal is a moderator's decision.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings

from apps.partners.models import Partner
from apps.reviews.models import Review
from apps.reviews.services import review_hold
from ml.fusion import fuse_components, is_component

from .calibration import active_model

#: A linked threat report that ml/extortion.py does not find sufficient on its own
#: still counts, capped here so that it can only tip a review that other signals
#: already make suspicious (4.5 x 0.6 in logit: 0.31 alone, under any sane threshold).
REPORT_ALONE_CAP = 0.6


def hold_threshold(partner: Partner) -> float:
    """The risk at which the partner's reviews are held: the partner's own setting,
    else the calibrated model's threshold for it, else the service default."""
    if partner.hold_threshold is not None:
        return partner.hold_threshold
    model = active_model()
    calibrated = model.threshold(partner.pk) if model is not None else None
    return calibrated if calibrated is not None else settings.REVIEW_HOLD_THRESHOLD


def verdict(*, risk: float, partner: Partner) -> str:
    return Review.Status.HELD if risk >= hold_threshold(partner) else Review.Status.PUBLISHED


def report_component(*, sufficient: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """The fusion component of a linked threat report (``extortion_report``)."""
    return np.where(sufficient, 1.0, np.minimum(strength, REPORT_ALONE_CAP))


def refused_risk(*, records: list[dict], extra: dict[str, float]) -> float:
    """A scored review's risk once more components are known.

    ``records`` are the review's stored reasons: each fused component that fired
    is there with its value as ``score``; ``extra`` adds or raises components.
    """
    components: dict[str, float] = {}
    for r in records:
        if is_component(r.get("code", "")):
            components[r["code"]] = max(components.get(r["code"], 0.0), float(r.get("score") or 0))
    for code, value in extra.items():
        components[code] = max(components.get(code, 0.0), float(value))
    if not components:
        return 0.0
    model = active_model()
    return float(fuse_components(
        {k: np.array([v]) for k, v in components.items()},
        weights=model.weights if model else None, bias=model.bias if model else None,
    )[0])


def component_record(component: str) -> dict:
    """The stored reason of a component that counts at full strength."""
    return {"code": component, "score": 1.0, "values": {"value": 1.0}}


def hold_on_new_evidence(*, review_id: int, partner: Partner, stored: list[dict],
                         component: str, reasons: list[dict]) -> bool:
    """Decide an already-scored review again, ``component`` now counting at full
    strength (a report linked, a ring or bombing found after publication): when
    the one rule says hold, hold it with ``reasons``. True if it was held now."""
    risk = refused_risk(records=stored, extra={component: 1.0})
    if verdict(risk=risk, partner=partner) != Review.Status.HELD:
        return False
    return review_hold(review_id=review_id, risk_score=risk, reasons=reasons)
