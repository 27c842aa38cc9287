"""Database rows -> ``ml.features.ReviewColumns``, streamed as tuples, not model instances."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Q

from apps.reviews.models import Review
from ml.features import ReviewColumns

_VALUES = (
    "id",
    "reviewer_id",
    "establishment_id",
    "rating",
    "created_at",
    "reviewer__account_created_at",
    "booking_ref_hash",
    "reviewer__email_hash",
    "device_hash",
    "ip_hash",
    "ip24_hash",
    "text",
)


@dataclass(frozen=True)
class LoadedReviews:
    review_ids: np.ndarray  # int64 database ids, aligned with columns
    columns: ReviewColumns


def _factorise(values: Sequence[str]) -> np.ndarray:
    """Hash strings -> int64 codes; "" (unknown) -> -1."""
    codes: dict[str, int] = {}
    out = np.fromiter(
        (codes.setdefault(v, len(codes)) if v else -1 for v in values),
        dtype=np.int64,
        count=len(values),
    )
    return out


def _epoch(values: Iterable) -> np.ndarray:
    return np.array([v.timestamp() if v is not None else np.nan for v in values], dtype=np.float64)


def columns_from_rows(rows: list[tuple]) -> LoadedReviews:
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in _VALUES]
    return LoadedReviews(
        review_ids=np.asarray(cols[0], dtype=np.int64),
        columns=ReviewColumns(
            reviewer=np.asarray(cols[1], dtype=np.int64),
            establishment=np.asarray(cols[2], dtype=np.int64),
            rating=np.asarray(cols[3], dtype=np.float64),
            created_at=_epoch(cols[4]),
            account_created_at=_epoch(cols[5]),
            verified_stay=np.array([bool(v) for v in cols[6]], dtype=bool),
            email=_factorise(cols[7]),
            device=_factorise(cols[8]),
            ip=_factorise(cols[9]),
            ip24=_factorise(cols[10]),
            text=list(cols[11]),
        ),
    )


def load_review_context(*, review_ids: list[int]) -> LoadedReviews:
    """The given reviews plus the history of their reviewers and establishments."""
    targets = Review.objects.filter(id__in=review_ids)
    reviewer_ids = set(targets.values_list("reviewer_id", flat=True))
    establishment_ids = set(targets.values_list("establishment_id", flat=True))
    rows = list(
        Review.objects.filter(
            Q(reviewer_id__in=reviewer_ids) | Q(establishment_id__in=establishment_ids)
        )
        .order_by("id")
        .values_list(*_VALUES)
    )
    return columns_from_rows(rows)
