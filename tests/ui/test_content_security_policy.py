"""The Content-Security-Policy blocks nothing our own pages need (headless Chromium)."""

from __future__ import annotations

import re

import pytest

from apps.cases.models import Case
from tests.factories_cases import PASSWORD, console_scenario, moderator
from tests.factories_reports import OWNER_PASSWORD, OwnerMembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return found


def test_the_moderator_pages_break_no_rule_of_the_policy(page, live_server, transactional_db):
    console_scenario()
    violations = _violations(page)
    user = moderator(username="csp-mod")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    page.goto(f"{live_server.url}/admin/cases/case/")
    case = Case.objects.order_by("-severity").first()
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    assert violations == []


def test_the_owner_portal_breaks_no_rule_of_the_policy(page, live_server, transactional_db):
    owner = OwnerMembershipFactory().user
    violations = _violations(page)
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", OWNER_PASSWORD)
    page.locator("form button[type=submit].btn-primary").click()
    page.wait_for_url(re.compile(r".*/portal/$"))
    page.goto(f"{live_server.url}/portal/reports/new/")
    assert violations == []
