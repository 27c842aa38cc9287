"""With DEBUG off the service refuses to start on missing or built-in keys.

Each case imports the real settings in a fresh interpreter, with an environment
of our choosing, as `gunicorn` or `celery` would at start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s" * 30 + "-a-real-looking-secret-key-0123456789"
GOOD_PII = "p" * 30 + "-a-real-looking-pii-hash-key-012345678"
BUILT_IN_PII = "insecure-local-only-pii-key-change-me"

pytestmark = pytest.mark.timeout(60)


def _django(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("SECRET_KEY", "PII_HASH_KEY", "DEBUG", "SECURE_", "DJANGO_ALLOW_ASYNC"))
    }
    # An empty VAR_DIR unless a test gives one: no local key files to fall back on.
    base.update(
        DJANGO_SETTINGS_MODULE="reviewguard.settings",
        REVIEWGUARD_VAR_DIR=env.pop("REVIEWGUARD_VAR_DIR", None) or tempfile.mkdtemp(),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=base, capture_output=True, text=True, timeout=50,
    )


def _starts(**env: str) -> subprocess.CompletedProcess:
    return _django("print('started')", **env)


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _starts(PII_HASH_KEY=GOOD_PII)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY" in result.stderr


def test_it_refuses_to_start_without_a_pii_hash_key_when_debug_is_off():
    result = _starts(SECRET_KEY=GOOD_SECRET)
    assert result.returncode != 0
    assert "ImproperlyConfigured: PII_HASH_KEY" in result.stderr


def test_it_refuses_to_start_on_the_built_in_pii_hash_key():
    result = _starts(SECRET_KEY=GOOD_SECRET, PII_HASH_KEY=BUILT_IN_PII)
    assert result.returncode != 0
    assert "ImproperlyConfigured: PII_HASH_KEY" in result.stderr


def test_it_refuses_to_start_on_a_short_secret_key():
    result = _starts(SECRET_KEY="short", PII_HASH_KEY=GOOD_PII)
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_it_starts_with_both_keys_set_and_debug_off():
    result = _starts(SECRET_KEY=GOOD_SECRET, PII_HASH_KEY=GOOD_PII)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


def test_it_reads_the_keys_from_files(tmp_path):
    (tmp_path / "secret").write_text(GOOD_SECRET + "\n")
    (tmp_path / "pii").write_text(GOOD_PII + "\n")
    result = _django(
        "from django.conf import settings; print(settings.PII_HASH_KEY)",
        SECRET_KEY_FILE=str(tmp_path / "secret"), PII_HASH_KEY_FILE=str(tmp_path / "pii"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD_PII


def test_it_reads_the_local_keys_make_keys_writes_under_var(tmp_path):
    (tmp_path / "secret_key").write_text(GOOD_SECRET + "\n")
    (tmp_path / "pii_hash_key").write_text(GOOD_PII + "\n")
    result = _django(
        "from django.conf import settings; print(settings.PII_HASH_KEY)",
        REVIEWGUARD_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD_PII


def test_a_key_set_in_the_environment_wins_over_the_local_key_file(tmp_path):
    (tmp_path / "pii_hash_key").write_text(GOOD_PII + "\n")
    other = "o" * 60
    result = _django(
        "from django.conf import settings; print(settings.PII_HASH_KEY)",
        REVIEWGUARD_VAR_DIR=str(tmp_path), SECRET_KEY=GOOD_SECRET, PII_HASH_KEY=other,
    )
    assert result.stdout.strip() == other


def test_it_refuses_to_start_on_an_unreadable_key_file(tmp_path):
    result = _starts(SECRET_KEY_FILE=str(tmp_path / "missing"), PII_HASH_KEY=GOOD_PII)
    assert result.returncode != 0
    assert "SECRET_KEY_FILE" in result.stderr


def test_it_starts_with_local_keys_when_debug_is_on():
    result = _starts(DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_the_https_switch_on():
    result = _django(
        "from django.core.management import call_command; "
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        SECRET_KEY=GOOD_SECRET, PII_HASH_KEY=GOOD_PII, SECURE_HTTPS="1",
        ALLOWED_HOSTS="reviewguard.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_https_switch_turns_on_hsts_and_secure_cookies():
    result = _django(
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT)",
        SECRET_KEY=GOOD_SECRET, PII_HASH_KEY=GOOD_PII, SECURE_HTTPS="1",
    )
    assert result.stdout.split() == ["31536000", "True", "True", "True"]


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_scripts(client):
    policy = client.get("/portal/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_pages_cannot_be_framed(client):
    assert client.get("/portal/login/")["X-Frame-Options"] == "DENY"
