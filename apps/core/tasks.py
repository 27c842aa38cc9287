"""Celery options shared by the tasks that must never lose work.

acks_late + reject_on_worker_lost: a message is acknowledged only after its
task finished, so a worker killed mid-task hands it to another. Only what may
work on the next try is retried: the database being unreachable or
restarting (OperationalError, InterfaceError), with exponential backoff and
jitter, a bounded number of times. An IntegrityError or a bug is not
transient and is not retried. Every such task is idempotent, so running it
twice is harmless.
"""

from django.db import InterfaceError, OperationalError

RELIABLE_TASK = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 6,
    "ignore_result": True,
}
