"""gunicorn settings: ``gunicorn -c reviewguard/gunicorn.conf.py reviewguard.wsgi``.

``manage.py serve`` (``make run``) and the benchmarks use this file; on a web
machine add ``--bind`` and size ``--workers`` (or ``WEB_CONCURRENCY``) to its
cores (docs/DEPLOY.md).

- Threaded workers (gthread, 4 threads each): with one request per process
  (sync workers), a cheap GET queued behind 100-review bulk posts and case
  lists whenever every process was busy with one (``bench.load``: review
  detail waited up to 320 ms in the listen queue). Requests are mostly
  database and serialisation work, so threads share a process well.
- 2 processes by default (``WEB_CONCURRENCY``), as many as ``make run``'s
  machine usually has cores for the web beside the Celery worker.
- Each worker freezes what it loaded before serving (``warm_up_and_freeze``):
  full garbage collections no longer stall requests for 100+ ms.
- Threads hand the interpreter over every 1 ms instead of Python's 5 ms
  (``SWITCH_INTERVAL_S``): a cheap request coming back from the database
  waited up to 5 ms for a thread serialising a 100-review bulk post, at each
  of its queries (bench/RESULTS.md, issue 11).
- The workers' heartbeat file lives in ``/dev/shm`` (memory) where it exists:
  gunicorn touches it on every pass of a worker's loop, and on a disk-backed
  ``/tmp`` that was ~5% of a worker's CPU samples serving single reviews
  (0.4-0.5 ms of CPU a request in one A/B pair on a busy machine;
  bench/RESULTS.md, issue 14). gunicorn's docs advise it.
- A worker that exits publishes the scoring tasks it was still gathering
  (``worker_exit``; apps/detection/outbox.py).
"""

import os
import sys

SWITCH_INTERVAL_S = 0.001

worker_class = "gthread"
threads = 4
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn makes its file there with mkstemp (private, unique), as it would in /tmp.
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None


def post_worker_init(worker):
    from reviewguard.wsgi import warm_up_and_freeze

    sys.setswitchinterval(SWITCH_INTERVAL_S)

    frozen = warm_up_and_freeze()
    worker.log.debug("froze %d objects loaded at start-up", frozen)


def worker_exit(server, worker):
    # Scoring publishes still gathered in this process go out before it ends
    # (apps/detection/outbox.py); a worker killed outright leaves them to the sweep.
    from apps.detection.outbox import flush_scoring_outbox

    flush_scoring_outbox()
