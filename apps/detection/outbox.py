"""A web process's scoring publishes, gathered: one task per few milliseconds.

Publishing a Celery task costs ~1.6 ms of CPU (message build, kombu, the Redis
round trip): a fifth of a single review POST's (bench/RESULTS.md, issue 14). A
process serving many single reviews hands their ids over here, and one thread
publishes them together ``window_s`` after the first arrived (sooner once
``max_ids`` are waiting), under the request ids of all the requests they came
from.

Nothing accepted is lost by waiting: the reviews are committed before their ids
get here, and a review whose publish never happened (its process was killed
inside the window, the broker was down) is still pending and was never
enqueued, which is what the sweep picks up (``scoring.sweep_pending``).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

# publish(ids, request ids they came from)
Publish = Callable[[list[int], list[str]], None]


class Outbox:
    """Ids handed over by any thread, published by one background thread in batches."""

    def __init__(self, publish: Publish, *, window_s: float, max_ids: int) -> None:
        self._publish = publish
        self.window_s = window_s
        self.max_ids = max_ids
        self._ids: list[int] = []
        self._tags: list[str] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, ids: list[int], tag: str = "") -> None:
        if not ids:
            return
        with self._cond:
            self._ids.extend(ids)
            self._tags.append(tag)
            self._start_if_needed()
            self._cond.notify()

    def flush(self) -> None:
        """Publish what is waiting now, in the calling thread."""
        with self._cond:
            batch = self._take()
        self._send(*batch)

    def _take(self) -> tuple[list[int], list[str]]:
        batch = (self._ids, self._tags)
        self._ids, self._tags = [], []
        return batch

    def _start_if_needed(self) -> None:
        # Started lazily, and again in a forked child: threads do not survive fork().
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="scoring-outbox", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._ids)
                # The window opens with the first id: gather what comes within it.
                self._cond.wait_for(lambda: len(self._ids) >= self.max_ids, self.window_s)
                batch = self._take()
            self._send(*batch)

    def _send(self, ids: list[int], tags: list[str]) -> None:
        if not ids:
            return
        try:
            self._publish(ids, tags)
        except Exception:
            # The reviews are committed and pending: the sweep will enqueue them.
            logger.warning("scoring publish failed; %d reviews left to the sweep", len(ids),
                           exc_info=True)


_outbox: Outbox | None = None
_outbox_lock = threading.Lock()


def scoring_outbox(publish: Publish, *, window_s: float, max_ids: int) -> Outbox:
    """This process's outbox (made on first use; flushed when the process exits)."""
    global _outbox
    with _outbox_lock:
        if _outbox is None:
            _outbox = Outbox(publish, window_s=window_s, max_ids=max_ids)
            atexit.register(_outbox.flush)
        _outbox.window_s, _outbox.max_ids = window_s, max_ids
        return _outbox


def flush_scoring_outbox() -> None:
    """Publish what this process still holds (gunicorn's ``worker_exit`` calls this)."""
    if _outbox is not None:
        _outbox.flush()
