"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright for the UI tests.

Playwright never downloads a browser here; it launches the system Chromium.
The sync API runs an event loop in the test thread, so Django's async-safety
guard must be relaxed for the test process (the live server runs in its own thread).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "bench" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def eager_tasks(settings, tmp_path):
    """Tasks (e-mail, linkage) run in the request; evidence under a temporary MEDIA_ROOT;
    a fast password hasher."""
    from reviewguard.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    # Fast for new passwords; PBKDF2 still checks the moderators' hash, which
    # tests/factories_cases.py computes once per session with the default hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
