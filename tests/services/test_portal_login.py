"""Owner portal sign-in: the lockout after repeated failures, per account and per IP."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from tests.factories_reports import OWNER_PASSWORD, OwnerFactory

LOGIN = "/portal/login/"


@pytest.fixture(autouse=True)
def clean_cache(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    settings.PORTAL_LOGIN_MAX_FAILURES = 5
    settings.PORTAL_LOGIN_MAX_FAILURES_PER_IP = 20
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(db):
    return OwnerFactory(username="marie")


def attempt(client, username="marie", guess="wrong", ip="198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": guess}, REMOTE_ADDR=ip)


def test_right_password_signs_in(client, owner):
    response = attempt(client, guess=OWNER_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, owner):
    response = attempt(client)

    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_five_failures_lock_the_account_even_against_the_right_password(client, owner):
    codes = [attempt(client).status_code for _ in range(5)]

    response = attempt(client, guess=OWNER_PASSWORD)

    assert codes == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_from_one_ip_do_not_lock_the_owner_out_from_another_ip(client, owner):
    for _ in range(5):
        attempt(client, ip="198.51.100.7")

    assert attempt(client, guess=OWNER_PASSWORD, ip="203.0.113.99").status_code == 302


def test_failures_spread_over_many_ips_lock_the_account_everywhere(client, owner, settings):
    settings.PORTAL_LOGIN_MAX_FAILURES_PER_ACCOUNT = 8
    for n in range(8):
        attempt(client, ip=f"198.51.100.{n + 10}")

    assert attempt(client, guess=OWNER_PASSWORD, ip="203.0.113.99").status_code == 429


def test_the_account_wide_lock_decays_on_its_own(client, owner, settings):
    settings.PORTAL_LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    settings.PORTAL_LOGIN_ACCOUNT_LOCKOUT_SECONDS = 1
    for n in range(3):
        attempt(client, ip=f"198.51.100.{n + 10}")
    time.sleep(1.2)

    assert attempt(client, guess=OWNER_PASSWORD, ip="203.0.113.99").status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_not_the_proxy(
    client, owner, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(5):
        client.post(LOGIN, {"username": "marie", "password": "wrong"}, REMOTE_ADDR="10.0.0.2",
                    HTTP_X_FORWARDED_FOR="198.51.100.7")

    response = client.post(LOGIN, {"username": "marie", "password": OWNER_PASSWORD},
                           REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert response.status_code == 302


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(client, owner, settings):
    settings.TRUSTED_PROXIES = []
    for n in range(5):
        client.post(LOGIN, {"username": "marie", "password": "wrong"}, REMOTE_ADDR="198.51.100.7",
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert attempt(client, guess=OWNER_PASSWORD, ip="198.51.100.7").status_code == 429


def test_many_failures_from_one_ip_lock_that_ip_for_every_account(client, owner, settings):
    settings.PORTAL_LOGIN_MAX_FAILURES_PER_IP = 6
    for n in range(6):
        attempt(client, username=f"guess{n}")

    assert attempt(client, guess=OWNER_PASSWORD).status_code == 429
    assert attempt(client, guess=OWNER_PASSWORD, ip="203.0.113.1").status_code == 302


def test_a_success_resets_the_failure_count(client, owner):
    for _ in range(4):
        attempt(client)
    attempt(client, guess=OWNER_PASSWORD)
    client.logout()

    codes = [attempt(client).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 200]


def test_the_lock_expires(client, owner, settings):
    settings.PORTAL_LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(5):
        attempt(client)
    time.sleep(1.2)

    assert attempt(client, guess=OWNER_PASSWORD).status_code == 302
