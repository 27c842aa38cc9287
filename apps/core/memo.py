"""Values a process read lately from the database, trusted for a while.

API keys (apps/partners/selectors.py) and establishment ids
(apps/establishments/selectors.py) are read on every review POST and change
rarely or never: each process remembers what it read, for a bounded time and
a bounded number of entries.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class RecentValues(Generic[V]):
    """Values by key, each trusted ``seconds`` after it was put; past
    ``max_entries`` everything is forgotten rather than the memory growing.
    Threads may share one (each operation is one dict call)."""

    def __init__(self, *, seconds: float, max_entries: int) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._rows: dict[Hashable, tuple[float, V]] = {}

    def get(self, key: Hashable) -> V | None:
        hit = self._rows.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.seconds:
            return hit[1]
        return None

    def put(self, key: Hashable, value: V) -> None:
        if len(self._rows) > self.max_entries:
            self._rows.clear()
        self._rows[key] = (time.monotonic(), value)

    def discard(self, key: Hashable) -> None:
        self._rows.pop(key, None)

    def clear(self) -> None:
        self._rows.clear()
