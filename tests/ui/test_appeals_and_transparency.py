"""An owner's appeal decided by a senior moderator, and the public transparency page,
in headless Chromium, in English and French. Screenshots go to bench/screenshots/."""

from __future__ import annotations

import pytest

from apps.cases.models import Appeal
from apps.cases.services import case_decide
from apps.reviews.models import Review
from tests.factories import ReviewFactory
from tests.factories_cases import console_scenario, moderator, senior_moderator
from tests.factories_reports import OwnerMembershipFactory
from tests.ui.browsing import new_page, sign_in_admin, sign_in_owner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_owner_appeals_a_dismissal_and_a_senior_moderator_overturns_it(
        browser, live_server, eager_tasks, screenshot_dir, language):
    scenario = console_scenario(detect=False)
    case, report = scenario["extortion"], scenario["report"]
    membership = OwnerMembershipFactory(establishment=report.establishment,
                                        user__username=f"owner-{language}",
                                        user__first_name="Claire", user__last_name="Martin",
                                        language=language)
    case_decide(case=case, decision="dismissed", actor=moderator(username=f"first-{language}"),
                note="The review reads like a genuine complaint.")

    context, page = new_page(browser, language)
    sign_in_owner(page, live_server, membership.user.username)
    page.goto(f"{live_server.url}/portal/reports/{report.pk}/")
    page.fill("#id_statement", "Voici l'e-mail complet : il exige 450 € sinon un avis 1 étoile."
              if language == "fr" else "Here is the full e-mail: 450 € or a one-star review.")
    page.screenshot(path=str(screenshot_dir / f"portal-appeal-form-{language}.png"),
                    full_page=True)
    page.click("#appeal button[type=submit]")
    page.wait_for_selector(".badge-appeal-open")
    context.close()

    appeal = Appeal.objects.get()
    context, page = new_page(browser, language, width=1400)
    sign_in_admin(page, live_server, senior_moderator(username=f"senior-{language}",
                                                      first_name="Inès"))
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    page.locator("#appeals").wait_for()
    page.screenshot(path=str(screenshot_dir / f"admin-appeal-{language}.png"), full_page=True)
    page.fill("#id_appeal_note", "The e-mail makes the demand and the threat explicit.")
    page.click("#overturn-button")
    page.wait_for_selector(".rg-appeal-overturned")
    context.close()

    appeal.refresh_from_db()
    report.refresh_from_db()
    assert appeal.status == "overturned"
    assert report.status == "confirmed"
    assert case.reviews.get().status == Review.Status.REMOVED

    context, page = new_page(browser, language)
    sign_in_owner(page, live_server, membership.user.username)
    page.goto(f"{live_server.url}/portal/notifications/")
    expected = "changé la décision" if language == "fr" else "changed the decision"
    assert expected in page.inner_text(".notification-list")
    page.screenshot(path=str(screenshot_dir / f"portal-notifications-{language}.png"),
                    full_page=True)
    context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_transparency_page_shows_the_month_with_its_chart(
        browser, live_server, eager_tasks, screenshot_dir, language):
    scenario = console_scenario(detect=True)
    decider = moderator(username=f"decider-{language}")
    case_decide(case=scenario["ring"], decision="confirmed", actor=decider, note="A ring.")
    case_decide(case=scenario["burst"], decision="confirmed", actor=decider, note="Bombing.")
    case_decide(case=scenario["extortion"], decision="dismissed", actor=decider, note="Unclear.")
    for _ in range(3):
        ReviewFactory(partner=scenario["partner"], status=Review.Status.PUBLISHED)

    context, page = new_page(browser, language)
    page.goto(f"{live_server.url}/transparency/voyages-azur/")
    page.locator(".chart svg").wait_for()
    heading = "Avis examinés" if language == "fr" else "Reviews screened"
    assert heading in page.inner_text(".stat-cards")
    assert page.locator("#csv-link").get_attribute("href").endswith(".csv?period="
                                                                      + page.locator(
                                                                          "#id_period").input_value())
    page.screenshot(path=str(screenshot_dir / f"transparency-{language}.png"), full_page=True)
    context.close()
