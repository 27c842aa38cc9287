"""Learning from moderators: refit the fusion weights and hold thresholds from
decided cases (ml/calibration.py), keep every refit as a versioned
``ScoringModel``, and switch to it only when it is not worse on held-out
decisions. Scoring reads the active model through ``active_model``."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.cases.selectors import decided_reviews_for_calibration
from ml.calibration import (
    CalibrationModel,
    component_matrix,
    current_fusion_weights,
    fit_calibration,
)

from .models import ScoringModel

logger = logging.getLogger(__name__)

#: A refit needs at least this many decided reviews (both outcomes present).
MIN_DECISIONS = 200
#: How long a process trusts its copy of the active model before reading it again.
ACTIVE_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class ActiveModel:
    version: str
    weights: dict[str, float]
    bias: float
    model: CalibrationModel

    def threshold(self, partner_id: int) -> float | None:
        value = self.model.partner_thresholds.get(str(partner_id), self.model.global_threshold)
        return None if value is None or not np.isfinite(value) else float(value)


_active: tuple[float, ActiveModel | None] | None = None


def active_model() -> ActiveModel | None:
    """The model scoring uses now (None: the built-in weights), cached briefly."""
    global _active
    now = time.monotonic()
    if _active is not None and now - _active[0] < ACTIVE_CACHE_SECONDS:
        return _active[1]
    row = ScoringModel.objects.filter(active=True).first()
    current = None
    if row is not None:
        model = CalibrationModel.from_json(row.model if isinstance(row.model, str)
                                           else json.dumps(row.model))
        current = ActiveModel(row.version, dict(model.weights), float(model.bias), model)
    _active = (now, current)
    return current


def forget_active_model() -> None:
    global _active
    _active = None


def scoring_model_calibrate(*, min_decisions: int = MIN_DECISIONS,
                            target_precision: float = 0.9) -> ScoringModel | None:
    """Refit from every decided case's reviews; record the refit; adopt it when it is
    not worse than the model in use on its held-out decisions. None: too few."""
    rows = decided_reviews_for_calibration()
    y = np.array([label for _, _, label in rows], dtype=np.int64)
    if len(rows) < min_decisions or len(np.unique(y)) < 2:
        logger.info("calibration skipped: %d decided reviews", len(rows))
        return None
    weights, bias = current_fusion_weights()
    current = active_model()
    if current is not None:
        weights, bias = {**weights, **current.weights}, current.bias
    components = tuple(sorted(weights))
    X = component_matrix([reasons for reasons, _, _ in rows], components)
    model = fit_calibration(
        X, y, [partner for _, partner, _ in rows], components=components,
        current_weights=weights, current_bias=bias,
        current_threshold=settings.REVIEW_HOLD_THRESHOLD, target_precision=target_precision,
    )
    adopted = model.not_worse_than()
    with transaction.atomic():
        record = ScoringModel.objects.create(
            version=model.version, n_decisions=len(rows), model=model.to_json(),
            heldout=model.heldout, baseline=model.baseline, adopted=adopted,
            note=("adopted: not worse on held-out decisions" if adopted else
                  "kept the model in use: this refit is worse on held-out decisions "
                  "(or too few of them)"),
        )
        if adopted:
            ScoringModel.objects.filter(active=True).update(active=False)
            ScoringModel.objects.filter(pk=record.pk).update(active=True)
            record.active = True
    forget_active_model()
    logger.info("calibration %s on %d decisions: %s", model.version, len(rows), record.note)
    return record
