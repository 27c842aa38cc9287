"""The invitation link and the password reset, through the portal pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from apps.establishments.models import OwnerMembership
from tests.factories_reports import OwnerFactory, OwnerInvitationFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a long and unusual passphrase"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def accept(client, token, **overrides):
    data = {"first_name": "Claire", "last_name": "Martin", "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD, **overrides}
    return client.post(f"/portal/invitation/{token}/", data)


def test_the_invitation_page_names_the_partner_and_the_establishments(client):
    invitation = OwnerInvitationFactory(token="tok", partner__name="Séjours Azur")

    response = client.get("/portal/invitation/tok/")

    assert response.status_code == 200
    assert "Séjours Azur" in response.text
    assert invitation.establishments.get().name in response.text


def test_setting_a_password_signs_the_owner_in_on_the_dashboard(client):
    OwnerInvitationFactory(token="tok", email="claire@example.fr")

    response = accept(client, "tok")

    assert response.status_code == 302
    assert response.url == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert OwnerMembership.objects.filter(user__email="claire@example.fr").count() == 1


def test_two_different_passwords_are_refused(client):
    OwnerInvitationFactory(token="tok")

    response = accept(client, "tok", password2="something else entirely")

    assert response.status_code == 400
    assert "differ" in response.text


def test_a_used_link_shows_a_page_that_explains_it(client):
    OwnerInvitationFactory(token="tok")
    accept(client, "tok")
    client.logout()

    response = client.get("/portal/invitation/tok/")

    assert response.status_code == 404
    assert "already used" in response.text


def test_an_expired_link_answers_410(client):
    OwnerInvitationFactory(token="tok", expires_at=datetime.now(UTC) - timedelta(hours=1))

    assert client.get("/portal/invitation/tok/").status_code == 410


def test_password_reset_emails_a_link_that_sets_a_new_password(client, mailoutbox, settings):
    owner = OwnerFactory(email="claire@example.fr")

    response = client.post("/portal/password-reset/", {"email": "claire@example.fr"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+", mailoutbox[0].body).group(0)
    assert link.startswith(settings.PUBLIC_BASE_URL)
    path = link.removeprefix(settings.PUBLIC_BASE_URL)
    form_url = client.get(path).url  # Django swaps the token for a session marker
    response = client.post(form_url, {"new_password1": GOOD_PASSWORD,
                                      "new_password2": GOOD_PASSWORD})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(GOOD_PASSWORD)


def test_password_reset_page_is_in_french_for_french_owners(client):
    response = client.get("/portal/password-reset/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "Mot de passe oublié" in response.text


def test_the_login_page_signs_in_with_an_email_address(client):
    OwnerFactory(email="claire@example.fr")

    response = client.post("/portal/login/", {"username": "claire@example.fr",
                                              "password": "correct horse battery staple"})

    assert response.status_code == 302
    assert response.url == "/portal/"
