"""Small helpers shared by the browser tests: a page in a language, signing in."""

from __future__ import annotations

import re

from tests.factories_cases import PASSWORD
from tests.factories_reports import OWNER_PASSWORD


def new_page(browser, language: str, *, width: int = 1280):
    """(context, page) with the browser asking for ``language`` (en or fr)."""
    context = browser.new_context(viewport={"width": width, "height": 950},
                                  locale="fr-FR" if language == "fr" else "en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def sign_in_admin(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


def sign_in_owner(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", OWNER_PASSWORD)
    page.click(".login-card button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal/$"))
