"""Erasure in the detection tables (GDPR art. 17, ``manage.py erase_reviewer``).

The near-duplicate text index (``TextBand``) holds MinHash band keys of each
review's text: derived from words the reviewer asked to erase, so an erased
review's rows go. Its text is a tombstone from then on and is never indexed
again (only new reviews are). Scoring processes drop the review rows they
keep in memory when they see the erasure recorded (``ErasureEvent``)."""

from __future__ import annotations

from collections.abc import Iterable

from .models import ErasureEvent, TextBand


def detection_data_erase(*, review_ids: Iterable[int]) -> int:
    """Delete the band index rows of ``review_ids`` and record the erasure, so that
    no scoring process goes on using the rows it read of them before
    (``apps.detection.rowcache``). Call in the erasure's transaction. Returns how
    many index rows were deleted."""
    review_ids = list(review_ids)
    deleted, _ = TextBand.objects.filter(review_id__in=review_ids).delete()
    ErasureEvent.objects.create(reviews=len(review_ids))
    return deleted
