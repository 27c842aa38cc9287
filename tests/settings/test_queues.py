"""Each workload's tasks go to its own queue (docs/DEPLOY.md): a platform gives
scoring, the batch, reports and webhooks workers of their own."""

import pytest
from django.conf import settings

from reviewguard.celery import app


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(("task_name", "workload"), [
    ("scoring.score_reviews", "scoring"),
    ("scoring.sweep_pending", "scoring"),
    ("batch.run_detection", "batch"),
    ("batch.score_historical", "batch"),
    ("batch.calibrate", "batch"),
    ("reports.link", "reports"),
    ("webhooks.deliver", "webhooks"),
    ("webhooks.sweep_due", "webhooks"),
])
def test_a_workloads_task_goes_to_its_queue(task_name, workload):
    assert _queue_of(task_name) == settings.CELERY_QUEUES_BY_WORKLOAD[workload]


def test_every_task_of_the_app_has_a_stable_name_and_a_known_queue():
    app.loader.import_default_modules()
    known = {settings.CELERY_TASK_DEFAULT_QUEUE, *settings.CELERY_QUEUES_BY_WORKLOAD.values()}
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert ours and all("." in name and not name.startswith("apps.") for name in ours)
    assert {name: _queue_of(name) for name in ours if _queue_of(name) not in known} == {}
