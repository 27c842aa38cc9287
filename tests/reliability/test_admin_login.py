"""Admin sign-in: the same brute-force lockout as the owner portal."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories_cases import PASSWORD, moderator

LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def clean_cache(settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 5
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    user = moderator(username="mod-alice")
    user.set_password(PASSWORD)  # with the fast hasher above
    user.save()
    return user


def attempt(client, guess="wrong", ip="198.51.100.7", username="mod-alice"):
    return client.post(LOGIN, {"username": username, "password": guess, "next": "/admin/"},
                       REMOTE_ADDR=ip)


def test_right_password_signs_in_to_the_admin(client, user):
    assert attempt(client, guess=PASSWORD).status_code == 302


def test_five_wrong_passwords_lock_admin_sign_in_even_against_the_right_one(client, user):
    codes = [attempt(client).status_code for _ in range(5)]

    response = attempt(client, guess=PASSWORD)

    assert codes == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_lock_does_not_hold_from_another_ip(client, user):
    for _ in range(5):
        attempt(client)

    assert attempt(client, guess=PASSWORD, ip="203.0.113.99").status_code == 302


def test_one_ip_guessing_many_admin_accounts_is_locked(client, user, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES_PER_IP = 6
    for n in range(6):
        attempt(client, username=f"guess{n}")

    assert attempt(client, guess=PASSWORD).status_code == 429
