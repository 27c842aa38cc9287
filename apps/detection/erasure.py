"""Erasure in the detection tables (GDPR art. 17, ``manage.py erase_reviewer``).

The near-duplicate text index (``TextBand``) holds MinHash band keys of each
review's text: derived from words the reviewer asked to erase, so an erased
review's rows go. Its text is a tombstone from then on and is never indexed
again (only new reviews are)."""

from __future__ import annotations

from collections.abc import Iterable

from .models import TextBand


def text_bands_delete(*, review_ids: Iterable[int]) -> int:
    """Delete the band index rows of ``review_ids``; returns how many."""
    deleted, _ = TextBand.objects.filter(review_id__in=list(review_ids)).delete()
    return deleted
