"""POST/GET /api/v1/owner-invitations/: partners invite owners to the portal."""

from __future__ import annotations

import pytest

from apps.establishments.models import OwnerInvitation
from tests.factories import EstablishmentFactory

URL = "/api/v1/owner-invitations/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotels(partner_api):
    return [EstablishmentFactory(partner=partner_api.partner, external_id=f"htl-{n}",
                                 name=f"Hôtel {n}") for n in (1, 2)]


def invite(api, django_capture_on_commit_callbacks, **overrides):
    body = {"email": "Claire.Martin@Example.fr", "establishments": ["htl-1", "htl-2"],
            "language": "fr", **overrides}
    with django_capture_on_commit_callbacks(execute=True):
        return api.post(URL, body, format="json")


def test_it_creates_a_pending_invitation_for_the_named_establishments(
        api, hotels, celery_eager, django_capture_on_commit_callbacks):
    response = invite(api, django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "claire.martin@example.fr"
    assert sorted(body["establishments"]) == ["htl-1", "htl-2"]
    assert body["status"] == "pending"
    assert body["language"] == "fr"


def test_it_emails_the_owner_a_one_time_link_in_their_language(
        api, hotels, celery_eager, mailoutbox, django_capture_on_commit_callbacks):
    invite(api, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["claire.martin@example.fr"]
    assert "vous invite" in message.subject
    assert "/portal/invitation/" in message.body
    assert "Hôtel 1" in message.body


def test_it_never_returns_the_link_token(api, hotels, celery_eager, mailoutbox,
                                         django_capture_on_commit_callbacks):
    response = invite(api, django_capture_on_commit_callbacks)

    token = mailoutbox[0].body.split("/portal/invitation/")[1].split("/")[0]
    assert token not in response.content.decode()
    assert not OwnerInvitation.objects.filter(token_hash=token).exists()


def test_it_names_unknown_establishments(api, hotels, django_capture_on_commit_callbacks):
    response = invite(api, django_capture_on_commit_callbacks,
                      establishments=["htl-1", "nowhere"])

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_establishment"
    assert "nowhere" in str(error["fields"]["establishments"])


def test_another_partners_establishment_is_unknown(api, other_partner_api,
                                                   django_capture_on_commit_callbacks):
    EstablishmentFactory(partner=other_partner_api.partner, external_id="theirs")

    response = invite(api, django_capture_on_commit_callbacks, establishments=["theirs"])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_establishment"


def test_it_rejects_a_bad_email_with_the_json_error_shape(api, hotels,
                                                          django_capture_on_commit_callbacks):
    response = invite(api, django_capture_on_commit_callbacks, email="not-an-address")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "email" in response.json()["error"]["fields"]


def test_it_rejects_an_empty_establishment_list(api, hotels, django_capture_on_commit_callbacks):
    response = invite(api, django_capture_on_commit_callbacks, establishments=[])

    assert response.status_code == 400
    assert "establishments" in response.json()["error"]["fields"]


def test_the_list_shows_only_the_callers_invitations(
        api, hotels, other_partner_api, celery_eager, django_capture_on_commit_callbacks):
    invite(api, django_capture_on_commit_callbacks)
    EstablishmentFactory(partner=other_partner_api.partner, external_id="htl-1")
    invite(other_partner_api.client, django_capture_on_commit_callbacks,
           establishments=["htl-1"])

    response = api.get(URL)

    assert response.status_code == 200
    assert [i["email"] for i in response.json()["results"]] == ["claire.martin@example.fr"]


def test_another_partners_invitation_answers_404(
        api, other_partner_api, celery_eager, django_capture_on_commit_callbacks):
    EstablishmentFactory(partner=other_partner_api.partner, external_id="htl-9")
    theirs = invite(other_partner_api.client, django_capture_on_commit_callbacks,
                    establishments=["htl-9"]).json()

    response = api.get(f"{URL}{theirs['id']}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
