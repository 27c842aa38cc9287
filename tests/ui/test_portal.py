"""Owner portal in headless Chromium: sign in, file a report in French with evidence,
see the review held because of it. Saves the screenshots under bench/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.reviews import pii
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, PartnerFactory, ReviewerFactory, ReviewFactory
from tests.factories_reports import OWNER_PASSWORD, OwnerMembershipFactory, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(settings, tmp_path):
    """An owner of two establishments, reviews, and the guest's one-star review."""
    from reviewguard.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    app.conf.task_always_eager = True  # linkage runs in the request, like a fast worker
    now = datetime.now(UTC)
    partner = PartnerFactory(name="Séjours & Tables")
    hotel = EstablishmentFactory(partner=partner, name="Hôtel Bellecour", city="Lyon")
    bistro = EstablishmentFactory(partner=partner, name="Le Bouchon des Terreaux",
                                  kind="restaurant", city="Lyon")
    membership = OwnerMembershipFactory(
        establishment=hotel, user__username="claire", user__first_name="Claire",
        user__last_name="Martin")
    OwnerMembershipFactory(establishment=bistro, user=membership.user)
    for n, (rating, text) in enumerate([
        (5, "Chambre impeccable, accueil chaleureux, petit-déjeuner excellent."),
        (4, "Très bien situé, un peu bruyant côté rue mais personnel adorable."),
    ]):
        ReviewFactory(partner=partner, establishment=hotel, rating=rating, text=text,
                      status=Review.Status.PUBLISHED, created_at=now - timedelta(days=10 + n))
    guest = ReviewerFactory(partner=partner, display_name="Jean D.",
                            email_hash=pii.email_hash("jean.dupont@example.org"))
    review = ReviewFactory(
        partner=partner, establishment=hotel, reviewer=guest, rating=1,
        title="Arnaque totale",
        text="Hôtel sale, personnel incompétent, à fuir absolument. Je déconseille à tout le monde.",
        status=Review.Status.PUBLISHED, created_at=now - timedelta(hours=20),
    )
    yield {"owner": membership.user, "hotel": hotel, "review": review, "now": now}
    app.conf.task_always_eager = False


def sign_in(page, live_server, *, french: bool = False):
    page.goto(f"{live_server.url}/portal/login/")
    if french:
        page.get_by_role("button", name="FR").click()
        page.wait_for_selector("html[lang=fr]")
    page.locator("#id_username").fill("claire")
    page.locator("#id_password").fill(OWNER_PASSWORD)
    page.locator("form button[type=submit].btn-primary").click()


def test_owner_signs_in_and_sees_their_establishments(live_server, page, portal,
                                                      screenshot_dir):
    sign_in(page, live_server)

    page.wait_for_url(f"{live_server.url}/portal/")
    assert page.get_by_role("heading", name="Hello, Claire Martin").is_visible()
    assert page.get_by_text("Hôtel Bellecour").is_visible()
    assert page.get_by_text("Le Bouchon des Terreaux").is_visible()
    page.screenshot(path=str(screenshot_dir / "portal-dashboard.png"), full_page=True)


def test_owner_files_a_report_in_french_and_sees_the_held_review(
    live_server, page, portal, screenshot_dir, tmp_path
):
    evidence = tmp_path / "capture-message.png"
    evidence.write_bytes(png_bytes(64, 48))
    received = (portal["now"] - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    sign_in(page, live_server, french=True)
    page.get_by_role("link", name="Signaler une menace").first.click()
    page.wait_for_url("**/portal/reports/new/")
    page.get_by_label("Établissement").select_option(label=str(portal["hotel"]))
    page.get_by_label("Comment la menace vous est-elle parvenue ?").select_option("email")
    page.get_by_label("Qu'a exigé le client ?").select_option("refund")
    page.get_by_label("Quand l'avez-vous reçue ?").fill(received)
    page.get_by_label("Le message, mot pour mot").fill(
        "Bonsoir, je veux être remboursé de ma nuit, sinon je publie un avis à une étoile "
        "partout. J'ai 40 000 abonnés, tout le monde saura."
    )
    page.get_by_label("Nom du client").fill("Jean Dupont")
    page.get_by_label("E-mail du client").fill("jean.dupont@example.org")
    page.get_by_label("Référence de réservation").fill("BK-2231")
    page.locator("input[type=file]").set_input_files(str(evidence))
    page.screenshot(path=str(screenshot_dir / "portal-report-form.png"), full_page=True)

    page.get_by_role("button", name="Envoyer le signalement").click()

    page.wait_for_url("**/portal/reports/*/")
    assert page.get_by_text("Votre signalement est enregistré").is_visible()
    assert page.get_by_text("Retenu pour modération").is_visible()
    assert page.get_by_text("retenu grâce à ce signalement").is_visible()
    assert page.get_by_role("link", name="capture-message.png").is_visible()
    page.screenshot(path=str(screenshot_dir / "portal-report-status.png"), full_page=True)
    portal["review"].refresh_from_db()
    assert portal["review"].status == Review.Status.HELD
