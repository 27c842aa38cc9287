"""Owner invitations: one-time, expiring links that open the portal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model

from apps.core.exceptions import ApplicationError
from apps.establishments.models import OwnerInvitation, OwnerMembership
from apps.establishments.services import owner_invitation_accept, owner_invitation_create
from tests.factories import EstablishmentFactory, PartnerFactory
from tests.factories_reports import OwnerFactory, OwnerInvitationFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a long and unusual passphrase"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_accepting_creates_the_owner_with_a_membership_of_each_establishment():
    invitation = OwnerInvitationFactory(token="tok", email="claire@example.fr", language="fr")

    user = owner_invitation_accept(token="tok", password=GOOD_PASSWORD, first_name="Claire")

    assert user.email == "claire@example.fr"
    assert user.first_name == "Claire"
    assert user.check_password(GOOD_PASSWORD)
    memberships = OwnerMembership.objects.filter(user=user)
    assert {m.establishment_id for m in memberships} == set(
        invitation.establishments.values_list("id", flat=True))
    assert {m.language for m in memberships} == {"fr"}


def test_a_link_works_only_once():
    OwnerInvitationFactory(token="tok")
    owner_invitation_accept(token="tok", password=GOOD_PASSWORD)

    with pytest.raises(ApplicationError) as exc:
        owner_invitation_accept(token="tok", password=GOOD_PASSWORD)

    assert exc.value.code == "invitation_invalid"


def test_an_expired_link_is_refused():
    OwnerInvitationFactory(token="tok", expires_at=datetime.now(UTC) - timedelta(minutes=1))

    with pytest.raises(ApplicationError) as exc:
        owner_invitation_accept(token="tok", password=GOOD_PASSWORD)

    assert exc.value.code == "invitation_expired"
    assert exc.value.status_code == 410


def test_a_weak_password_is_refused_and_the_link_stays_usable():
    invitation = OwnerInvitationFactory(token="tok")

    with pytest.raises(ApplicationError) as exc:
        owner_invitation_accept(token="tok", password="12345678")

    assert "password" in exc.value.fields
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_existing_account_with_that_address_receives_the_memberships():
    owner = OwnerFactory(email="claire@example.fr")
    OwnerInvitationFactory(token="tok", email="claire@example.fr")

    user = owner_invitation_accept(token="tok", password=GOOD_PASSWORD)

    assert user == owner
    assert get_user_model().objects.filter(email__iexact="claire@example.fr").count() == 1


def test_a_new_invitation_replaces_the_pending_one(celery_eager):
    partner = PartnerFactory()
    hotel = EstablishmentFactory(partner=partner)
    first = owner_invitation_create(partner=partner, email="a@example.org", establishments=[hotel])

    owner_invitation_create(partner=partner, email="a@example.org", establishments=[hotel])

    first.refresh_from_db()
    assert first.status == OwnerInvitation.Status.EXPIRED


def test_inviting_to_another_partners_establishment_is_refused():
    with pytest.raises(ApplicationError) as exc:
        owner_invitation_create(partner=PartnerFactory(), email="a@example.org",
                                establishments=[EstablishmentFactory()])

    assert exc.value.code == "unknown_establishment"


def test_owners_sign_in_with_their_email_address_in_any_case():
    owner = OwnerFactory(email="Claire@Example.fr")

    user = authenticate(username="claire@example.FR", password="correct horse battery staple")

    assert user == owner


def test_an_email_shared_by_two_accounts_signs_neither_in():
    OwnerFactory(email="shared@example.fr")
    OwnerFactory(email="shared@example.fr")

    assert authenticate(username="shared@example.fr",
                        password="correct horse battery staple") is None


def test_a_moderator_invites_an_owner_from_the_admin(client, celery_eager, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    from tests.factories_cases import moderator

    hotel = EstablishmentFactory()
    client.force_login(moderator())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/establishments/ownerinvitation/add/", {
            "partner": hotel.partner_id, "email": "new.owner@example.fr",
            "establishments": [hotel.pk], "language": "fr"})

    assert response.status_code == 302, response.context["adminform"].errors
    invitation = OwnerInvitation.objects.get()
    assert invitation.created_by is not None
    assert mailoutbox[0].to == ["new.owner@example.fr"]


def test_the_admin_refuses_another_partners_establishment(client):
    from tests.factories_cases import moderator

    client.force_login(moderator())

    response = client.post("/admin/establishments/ownerinvitation/add/", {
        "partner": PartnerFactory().pk, "email": "x@example.fr",
        "establishments": [EstablishmentFactory().pk], "language": "en"})

    assert response.status_code == 200
    assert not OwnerInvitation.objects.exists()
