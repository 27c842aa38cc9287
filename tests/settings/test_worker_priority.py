"""Celery workers run at a lower CPU priority than the web server (WORKER_NICENESS),
and load what every worker process needs before the pool forks.

Each check runs in a child interpreter: a process cannot take back the priority
it gave away, and the test run must keep its own.
"""

import os
import subprocess
import sys

from django.conf import settings

PROLOGUE = (
    "import os, django; django.setup(); "
    "from celery.signals import worker_init; "
    "from reviewguard.celery import lower_cpu_priority; "
)


def _ours() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)  # children start where we are


def _niceness_after(code: str, **env: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", PROLOGUE + code + "; print(os.getpriority(os.PRIO_PROCESS, 0))"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "reviewguard.settings_test", **env},
        cwd=settings.BASE_DIR, capture_output=True, text=True, check=True, timeout=60,
    )
    return int(result.stdout.split()[-1])


def test_a_starting_worker_lowers_its_priority_to_the_setting():
    assert _niceness_after("worker_init.send(sender=None)", WORKER_NICENESS="7") == max(7, _ours())


def test_a_niceness_of_zero_leaves_the_worker_as_it_was():
    assert _niceness_after("worker_init.send(sender=None)", WORKER_NICENESS="0") == _ours()


def test_the_priority_is_never_raised():
    assert _niceness_after("os.nice(12); lower_cpu_priority(5)") == min(19, _ours() + 12)


def test_workers_default_to_niceness_ten():
    assert _niceness_after("worker_init.send(sender=None)") == max(10, _ours())


def test_a_starting_worker_trains_the_learned_extortion_cue_before_it_forks():
    code = ("import ml.threat_text as m; assert m._model is None; "
            "worker_init.send(sender=None); print(m._model is not None)")
    result = subprocess.run(
        [sys.executable, "-c", PROLOGUE + code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "reviewguard.settings_test"},
        cwd=settings.BASE_DIR, capture_output=True, text=True, check=True, timeout=60,
    )
    assert result.stdout.split()[-1] == "True"
