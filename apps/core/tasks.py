"""Celery options shared by the tasks that must never lose work.

acks_late + reject_on_worker_lost: a message is acknowledged only after its
task finished, so a worker killed mid-task hands it to another. Only what may
work on the next try is retried: the database being unreachable or
restarting (OperationalError, InterfaceError), with exponential backoff and
jitter, a bounded number of times. An IntegrityError or a bug is not
transient and is not retried. Every such task is idempotent, so running it
twice is harmless.
"""

import smtplib

from celery import shared_task
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



@shared_task(name="emails.send", bind=True, acks_late=True, ignore_result=True,
             autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=30,
             retry_backoff_max=1800, retry_jitter=True, max_retries=8)
def email_send_task(self, to: str, template: str, context: dict, language: str) -> None:
    """Send one e-mail; an unreachable or refusing mail server is retried with backoff."""
    from .emails import email_send

    email_send(to=to, template=template, context=context, language=language)


# A VACUUM of a table of millions of reviews can take minutes.
@shared_task(name="batch.maintain_tables", ignore_result=True, time_limit=3600,
             soft_time_limit=3540)
def maintain_tables_task() -> list[str]:
    """Vacuum and analyse the project's tables when the server's autovacuum is off
    (apps/core/maintenance.py). Periodic; a missed run is made up by the next, and
    a table another run is still vacuuming is skipped (lock timeout)."""
    from .maintenance import tables_maintain

    return tables_maintain()
