"""Management commands: create_partner prints the key once; demo data loads idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command

from apps.partners.keys import hash_secret, split_key
from apps.partners.models import ApiKey
from apps.reviews.models import Review

pytestmark = pytest.mark.django_db


def test_create_partner_prints_the_key_alone_on_the_last_line():
    out = StringIO()
    call_command("create_partner", "acme", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    prefix, secret = split_key(key)
    stored = ApiKey.objects.get(prefix=prefix)
    assert stored.key_hash == hash_secret(secret)
    assert secret not in stored.key_hash


def test_printed_key_authenticates(client):
    out = StringIO()
    call_command("create_partner", "acme", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    response = client.get("/api/v1/reviews/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200


def test_duplicate_partner_name_is_an_error():
    call_command("create_partner", "acme", stdout=StringIO())
    with pytest.raises(Exception, match="already exists"):
        call_command("create_partner", "acme", stdout=StringIO())


def test_demo_data_loads_once():
    call_command("load_demo_data", stdout=StringIO())
    count = Review.objects.count()
    call_command("load_demo_data", stdout=StringIO())
    assert count > 100
    assert Review.objects.count() == count


def test_demo_data_prints_how_the_demo_owner_and_moderators_sign_in(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    printed = out.getvalue()

    assert "/portal/" in printed and "/admin/" in printed
    assert client.login(username="owner@demo.reviewguard.localhost", password="demo-owner-2026")
    assert client.get("/portal/").context["establishments"].count() == 2


def test_the_demo_moderator_is_in_the_moderators_group():
    from django.contrib.auth import get_user_model

    call_command("load_demo_data", stdout=StringIO())

    moderator = get_user_model().objects.get(username="demo-moderator")
    assert moderator.is_staff
    assert moderator.has_perm("cases.decide_case")
