"""The case page's evidence, rendered on the server (the browser tests look at it too)."""

import pytest
from django.test import Client

from apps.cases.evidence import highlight_cues
from apps.cases.models import Case
from apps.cases.services import case_upsert
from tests.factories import ReviewFactory
from tests.factories_cases import finding_for, moderator, ring_case

pytestmark = pytest.mark.django_db


def _page(case: Case, **headers) -> str:
    client = Client()
    client.force_login(moderator())
    return client.get(f"/admin/cases/case/{case.pk}/change/", **headers).content.decode()


def test_extortion_cue_is_highlighted_and_the_rest_escaped():
    text = "<b>Bad</b> stay. Refund me or I will post a 1-star review everywhere."
    highlighted = highlight_cues(text)
    assert "&lt;b&gt;Bad&lt;/b&gt;" in highlighted.html
    assert '<mark class="rg-cue"' in highlighted.html
    assert highlighted.cues


def test_text_without_cues_is_left_alone():
    assert highlight_cues("Lovely room, kind staff.").html == "Lovely room, kind staff."


def test_ring_page_draws_the_ring_and_the_timeline():
    html = _page(ring_case(members=3, establishments=2))
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') == 2
    assert "Shared identifiers" in html and "Timeline of the members" in html


def test_a_promotion_of_one_establishment_draws_its_ring_and_timeline():
    html = _page(ring_case(members=4, establishments=1))
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') == 2
    assert "Timeline of the members" in html


def test_bombing_page_draws_the_daily_chart():
    reviews = [ReviewFactory(rating=1)]
    case, _ = case_upsert(finding=finding_for(reviews, kind=Case.Kind.REVIEW_BOMBING,
                                              keys=(f"review:{reviews[0].id}",)))
    html = _page(case)
    assert 'id="burst-chart"' in html and "Reviews per day" in html


def test_case_page_speaks_french_to_a_french_moderator():
    html = _page(ring_case(), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Les auteurs partagent un appareil." in html


def test_decided_case_shows_the_decision_instead_of_the_form():
    from apps.cases.services import case_decide

    case = ring_case()
    case_decide(case=case, decision="dismissed", actor=moderator(), note="A tour group.")
    html = _page(case)
    assert 'id="decision-form"' not in html
    assert "A tour group." in html


def test_deciding_warns_when_a_review_also_sits_in_another_open_case():
    reviews = [ReviewFactory(rating=1)]
    ring, _ = case_upsert(finding=finding_for(reviews, keys=("reviewer:1", "reviewer:2")))
    other, _ = case_upsert(finding=finding_for(reviews, kind=Case.Kind.REVIEW_BOMBING,
                                               keys=(f"review:{reviews[0].id}",)))
    html = _page(ring)
    assert 'id="also-open-in"' in html and f"#{other.pk}" in html


def test_no_warning_when_the_reviews_are_in_this_case_only():
    assert 'id="also-open-in"' not in _page(ring_case(members=3, establishments=2))


def test_the_queue_puts_incidents_before_per_reviewer_rankings():
    low = ReviewFactory(rating=1)
    anomalous, _ = case_upsert(finding=finding_for(
        [low], kind=Case.Kind.ANOMALOUS_REVIEWER, keys=(f"reviewer:{low.reviewer_id}",)))
    Case.objects.filter(pk=anomalous.pk).update(severity=0.99)
    ring = ring_case(members=3, establishments=2)
    Case.objects.filter(pk=ring.pk).update(severity=0.5)
    client = Client()
    client.force_login(moderator())
    html = client.get("/admin/cases/case/").content.decode()
    assert html.index(f"/admin/cases/case/{ring.pk}/change/") < html.index(
        f"/admin/cases/case/{anomalous.pk}/change/")
