"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewguard.settings")

# Request ids into tasks, and the project's JSON logging in workers: the signal
# receivers must be connected before the worker sets up its logging.
import apps.core.observability  # noqa: F401

app = Celery("reviewguard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_filesystem_broker_folders() -> None:
    """The embedded broker keeps its queue in folders that must exist first."""
    from pathlib import Path

    from django.conf import settings

    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_after_configure(sender, **kwargs) -> None:
    _ensure_filesystem_broker_folders()


def lower_cpu_priority(niceness: int) -> None:
    """Run this process, and the processes it forks, at ``niceness`` or nicer.

    Never raises the priority (that needs privileges and is not ours to do).
    """
    if niceness > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, niceness)


@worker_init.connect
def _on_worker_init(sender=None, **kwargs) -> None:
    # Sent in the worker's main process before it forks its pool (and beat).
    from django.conf import settings

    lower_cpu_priority(settings.WORKER_NICENESS)
    # The learned extortion cue (ml/threat_text.py) is trained here, once, before
    # the pool forks: its processes inherit it instead of each paying ~1.5 s in
    # the first batch that needs it.
    from ml.threat_text import threat_model

    threat_model()
