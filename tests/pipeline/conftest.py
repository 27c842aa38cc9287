"""A real Celery worker, in its own process, on the test database and the real broker.

These tests need PostgreSQL and an external broker (Redis or RabbitMQ), set by
DATABASE_URL and CELERY_BROKER_URL. Without them they are skipped on a laptop,
but in CI (CI=true) a missing service is a failure, never a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from reviewguard.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _missing_services() -> list[str]:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if settings.CELERY_BROKER_URL.startswith(("filesystem://", "memory://")):
        missing.append("an external broker (CELERY_BROKER_URL)")
    return missing


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/pipeline" in str(item.fspath):
            item.add_marker(pytest.mark.live_worker)


@pytest.fixture(scope="session", autouse=True)
def _require_services():
    missing = _missing_services()
    if missing:
        message = "live-worker tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must provide them)", pytrace=False)
        pytest.skip(message)


def _worker_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(_require_services, django_db_setup, django_db_blocker):
    """Start `celery worker` against the test database; stop it after the session."""
    with django_db_blocker.unblock():
        celery_app.control.purge()  # drop messages left by an earlier, interrupted run
        env = {**os.environ, "DATABASE_URL": _worker_database_url(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "reviewguard", "worker", "--loglevel", "INFO",
         "--concurrency", "2", "--without-gossip", "--without-mingle", "--hostname",
         f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    log: list[str] = []
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            log.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60):
        proc.kill()
        pytest.fail("Celery worker did not start:\n" + "".join(log[-40:]), pytrace=False)
    yield log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def wait_until() -> Callable[[Callable[[], bool], float], None]:
    def wait(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"condition not met within {timeout} s")

    return wait
