"""The web server as the product runs it: reviewguard/gunicorn.conf.py (threaded
workers that freeze what they loaded) and ``manage.py serve``'s command line."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from apps.core.management.commands.serve import web_command

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "reviewguard" / "gunicorn.conf.py"

pytestmark = pytest.mark.timeout(60)


def _conf(monkeypatch, **env: str) -> dict:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_workers_are_threaded(monkeypatch):
    conf = _conf(monkeypatch)
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 4)


def test_two_processes_unless_web_concurrency_says(monkeypatch):
    assert _conf(monkeypatch)["workers"] == 2
    assert _conf(monkeypatch, WEB_CONCURRENCY="6")["workers"] == 6


@pytest.fixture(scope="module")
def started_worker() -> dict:
    """What a fresh interpreter holds after gunicorn's post_worker_init hook ran."""
    code = (
        "import gc, json, runpy, sys\n"
        "import reviewguard.wsgi\n"
        "class Worker:\n"
        "    class log:\n"
        "        debug = staticmethod(lambda *a: None)\n"
        f"runpy.run_path({str(CONF)!r})['post_worker_init'](Worker())\n"
        "print(json.dumps({'frozen': gc.get_freeze_count(), 'tracked': len(gc.get_objects()),"
        " 'views': 'apps.reviews.api' in sys.modules and 'apps.reports.api' in sys.modules,"
        " 'switch': sys.getswitchinterval()}))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviewguard.settings_test"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=50)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_worker_start_imports_the_views_before_serving(started_worker):
    assert started_worker["views"]


def test_worker_start_puts_what_it_loaded_out_of_the_collectors_reach(started_worker):
    # A full collection walks only what is tracked and not frozen.
    assert started_worker["frozen"] > 50_000
    assert started_worker["tracked"] < started_worker["frozen"] / 10


def test_worker_start_hands_the_interpreter_between_threads_every_millisecond(started_worker):
    assert started_worker["switch"] == pytest.approx(0.001)


def test_serve_runs_gunicorn_with_the_product_settings():
    cmd = web_command(python="py", host="127.0.0.1", port=8000, web_workers=None)
    assert cmd[cmd.index("-c") + 1] == str(CONF)
    assert "--workers" not in cmd  # the settings file's default


def test_serve_web_workers_sets_the_processes():
    cmd = web_command(python="py", host="127.0.0.1", port=8000, web_workers=3)
    assert cmd[cmd.index("--workers") + 1] == "3"


def test_an_exiting_worker_publishes_the_scoring_tasks_it_gathered(monkeypatch):
    flushed = []
    monkeypatch.setattr("apps.detection.outbox.flush_scoring_outbox", lambda: flushed.append(1))
    _conf(monkeypatch)["worker_exit"](None, None)
    assert flushed == [1]
