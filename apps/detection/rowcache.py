"""Review rows a scoring process read recently, kept for its next batches.

A live batch reads its neighbourhood's rows (apps/detection/live.py), and
consecutive batches share most of them: the same establishments' recent
reviews, co-reviewers and copied texts. In ``bench.pipeline``'s flood at a
million reviews, 60% of a 50-review batch's ~18,000 rows were the previous
batch's and 85% of a 500-review batch's ~26,000 (bench/RESULTS.md, issue 14),
and reading them again was a third of a small batch's time.

A stored review's row never changes, with one exception: erasure
(``manage.py erase_reviewer``) blanks its text and identifier hashes. So:

- only review columns are kept (id, partner, reviewer, establishment, rating,
  time, identifier codes, text); reviewer columns (account age, e-mail) can
  change with any later POST and are read afresh for every batch;
- every erasure is recorded (``ErasureEvent``, in the erasure's transaction),
  and a batch reads the latest record's id before it looks up kept rows and
  again after it has read the others: if an erasure committed before or
  meanwhile, every kept row is dropped and the batch reads all its rows from
  the database. A batch that starts after an erasure committed therefore never
  uses the erased rows, as without kept rows (a batch already past its reads
  when an erasure commits goes on with what it read, as it always did);
- the rows kept are bounded (``SCORING_ROW_CACHE_ROWS``, the least recently
  used go first; 0 keeps none).

The frame a batch gets is the one ``read_reviews`` would give, row for row.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import islice

import numpy as np
from django.conf import settings

from .loader import ReviewFrame, Where, frame_of, read_reviews, review_columns
from .models import ErasureEvent


def _latest_erasure() -> int:
    return ErasureEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


class ReviewRows:
    """A bounded memory of review rows by id, valid under one erasure count
    (dict order = recency of use).

    One per process (``recent_rows``); a lock keeps threads that share it (a web
    process scoring eagerly in tests or ``make run``'s embedded mode) consistent.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: dict[int, tuple] = {}  # least recently used first
        self.erasure = -1
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.rows.clear()
            self.erasure = -1

    def frame(self, review_ids: Sequence[int]) -> ReviewFrame:
        """The frame of ``review_ids`` (sorted, unique), as
        ``read_reviews(where=Where(ids=review_ids))`` gives it."""
        ids = [int(i) for i in review_ids]
        if self.size <= 0:
            return read_reviews(where=Where(ids=ids))
        erasure = _latest_erasure()
        with self._lock:
            if erasure != self.erasure:
                self.rows.clear()
                self.erasure = erasure
            kept = {i: row for i in ids if (row := self.rows.get(i)) is not None}
        merged, texts = review_columns(where=Where(ids=[i for i in ids if i not in kept]))
        if _latest_erasure() != erasure:
            # An erasure committed while this batch read: nothing kept may be used.
            self.clear()
            return read_reviews(where=Where(ids=ids))
        fresh = dict(zip(merged[0].tolist(),
                         zip(*(column.tolist() for column in merged[1:]), texts, strict=True),
                         strict=True))
        with self._lock:
            if self.erasure == erasure:
                self._remember(kept, fresh)
        found = [(i, row) for i in ids if (row := kept.get(i) or fresh.get(i)) is not None]
        if not found:
            return frame_of(merged, texts)  # nothing kept, nothing read: the empty frame
        columns = list(zip(*(row for _, row in found), strict=True))
        # Each column back to an array of the dtype the loader gives it (the read
        # of the missing rows has every column, empty or not).
        rows = [np.fromiter((i for i, _ in found), merged[0].dtype, len(found))]
        rows += [np.asarray(values, dtype=column.dtype)
                 for values, column in zip(columns[:-1], merged[1:], strict=True)]
        return frame_of(rows, list(columns[-1]))

    def _remember(self, used: dict[int, tuple], fresh: dict[int, tuple]) -> None:
        """Keep ``fresh`` rows, and make the ``used`` ones the most recent: the
        least recently used go first when the memory is full, a tenth of it at a
        time (not one per new row)."""
        for review_id, row in used.items():
            self.rows.pop(review_id, None)
            self.rows[review_id] = row
        self.rows.update(fresh)
        if len(self.rows) > self.size:
            drop = len(self.rows) - self.size + self.size // 10
            for stale in list(islice(self.rows, drop)):
                del self.rows[stale]


_ROWS: ReviewRows | None = None
_ROWS_LOCK = threading.Lock()


def recent_rows() -> ReviewRows:
    """This process's memory of review rows (``SCORING_ROW_CACHE_ROWS``)."""
    global _ROWS
    with _ROWS_LOCK:
        size = int(getattr(settings, "SCORING_ROW_CACHE_ROWS", 0))
        if _ROWS is None or _ROWS.size != size:
            _ROWS = ReviewRows(size)
        return _ROWS
