"""The moderator console in headless Chromium: queue, evidence, a decision that applies."""

from __future__ import annotations

import re

import pytest
from django.apps import apps as django_apps

from apps.cases.models import Case, CaseEvent
from apps.reviews.models import Review
from tests.factories_cases import PASSWORD, console_scenario, moderator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scenario(transactional_db):
    return console_scenario()


@pytest.fixture
def signed_in(page, live_server, scenario):
    """A moderator (not a superuser) logged in to the admin."""
    user = moderator(username="camille")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    return page


def _case_url(live_server, case: Case) -> str:
    return f"{live_server.url}/admin/cases/case/{case.pk}/change/"


def test_queue_lists_open_cases_by_severity_with_counts_per_kind(
    signed_in, live_server, scenario, screenshot_dir
):
    page = signed_in
    page.goto(f"{live_server.url}/admin/cases/case/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == Case.objects.filter(status="open").count() >= 3
    first_row_case = rows.first.locator("th a, td a").first.inner_text()
    top = Case.objects.filter(status="open").order_by("-severity").first()
    assert first_row_case == f"#{top.pk}"
    assert page.locator(".rg-chip[data-kind=sock_puppet_ring] b").inner_text() == "1"
    page.screenshot(path=str(screenshot_dir / "admin-queue.png"), full_page=True)


def test_queue_filters_by_kind(signed_in, live_server, scenario):
    page = signed_in
    page.goto(f"{live_server.url}/admin/cases/case/")
    page.click(".rg-chip[data-kind=review_bombing]")
    page.wait_for_url(re.compile(r".*kind=review_bombing.*"))
    kinds = page.locator("#result_list tbody .rg-kind").all_inner_texts()
    assert kinds == ["Review bombing"]


def test_queue_filters_by_establishment(signed_in, live_server, scenario):
    page = signed_in
    page.goto(f"{live_server.url}/admin/cases/case/")
    page.fill(".rg-input-filter input[type=search]", "Bistrot")
    page.click(".rg-input-filter button")
    page.wait_for_url(re.compile(r".*establishment=Bistrot.*"))
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.locator("#result_list tbody .rg-kind").inner_text() == "Review bombing"


def test_moderator_confirms_a_ring_and_its_reviews_are_removed(
    signed_in, live_server, scenario, screenshot_dir
):
    page = signed_in
    ring = scenario["ring"]
    page.goto(f"{live_server.url}/admin/cases/case/?kind=sock_puppet_ring")
    page.click(f"#result_list a[href*='/cases/case/{ring.pk}/change/']")
    page.wait_for_selector("#ring-picture svg")
    assert page.locator("#timeline svg circle").count() == ring.reviews.count()
    page.screenshot(path=str(screenshot_dir / "admin-ring-case.png"), full_page=True)

    page.fill("#id_note", "Six accounts on one device praising the same four places in a week.")
    page.click("#confirm-button")
    page.wait_for_selector(".messagelist .success")
    assert "reviews removed" in page.locator(".messagelist").inner_text() or \
        "review(s) removed" in page.locator(".messagelist").inner_text()
    assert page.locator("#case-status").inner_text() == "Confirmed"
    statuses = set(page.locator("#reviews .rg-review-status").all_inner_texts())
    assert statuses == {"Removed"}
    assert set(ring.reviews.values_list("status", flat=True)) == {Review.Status.REMOVED}
    event = CaseEvent.objects.get(case=ring, action="confirmed")
    assert event.actor.username == "camille"


def test_decision_without_a_note_is_refused_by_the_form(signed_in, live_server, scenario):
    page = signed_in
    ring = scenario["ring"]
    page.goto(_case_url(live_server, ring))
    page.click("#confirm-button")  # the browser refuses: the note is required
    ring.refresh_from_db()
    assert ring.status == Case.Status.OPEN
    assert page.locator("#id_note:invalid").count() == 1


def test_burst_case_shows_the_daily_chart_with_the_burst(
    signed_in, live_server, scenario, screenshot_dir
):
    page = signed_in
    page.goto(_case_url(live_server, scenario["burst"]))
    chart = page.locator("#burst-chart svg")
    assert "burst" in chart.inner_html()
    page.screenshot(path=str(screenshot_dir / "admin-burst-case.png"), full_page=True)


@pytest.mark.skipif(not django_apps.is_installed("apps.reports"), reason="reports app absent")
def test_extortion_case_shows_the_threat_beside_the_review(
    signed_in, live_server, scenario, screenshot_dir
):
    page = signed_in
    page.goto(_case_url(live_server, scenario["extortion"]))
    pair = page.locator("#threats .rg-side-by-side").first
    assert "450 €" in pair.locator(".rg-threat").inner_text()
    assert pair.locator(".rg-review mark.rg-cue").count() >= 1
    assert pair.locator(".rg-threat mark.rg-cue").count() >= 1
    page.screenshot(path=str(screenshot_dir / "admin-extortion-case.png"), full_page=True)


def test_moderator_assigns_a_case_to_themself(signed_in, live_server, scenario):
    page = signed_in
    burst = scenario["burst"]
    page.goto(_case_url(live_server, burst))
    page.click("#assign-button")
    page.wait_for_selector(".messagelist .success")
    burst.refresh_from_db()
    assert burst.assigned_to.username == "camille"


def test_moderator_sees_no_delete_and_no_bulk_decisions(signed_in, live_server, scenario):
    page = signed_in
    page.goto(f"{live_server.url}/admin/cases/case/")
    options = page.locator("select[name=action] option").all_inner_texts()
    assert "Assign to me" in options
    assert not any("Delete" in o or "bulk" in o for o in options)
