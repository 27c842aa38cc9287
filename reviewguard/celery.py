"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

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
