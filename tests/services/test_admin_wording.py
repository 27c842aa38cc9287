"""The moderation console in French and English: labels from Case.Kind, plurals,
audit entries that say who and what, a queue header that matches its filter."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.cases.models import Case, CaseEvent
from apps.cases.services import case_assign, case_decide, case_upsert
from apps.cases.summaries import case_summary, kind_label
from tests.factories_cases import finding_for, moderator, ring_case, ring_reviews

pytestmark = pytest.mark.django_db


def client_for(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_the_admin_chrome_speaks_french():
    page = client_for(moderator(), "fr").get("/admin/cases/case/")

    assert "File des dossiers" in page.text
    assert "Déconnexion" in page.text  # Django's own admin catalogue


def test_the_case_page_is_in_french_with_real_plurals():
    case = ring_case(members=3, establishments=2)

    page = client_for(moderator(), "fr").get(f"/admin/cases/case/{case.pk}/change/").text

    assert "Pourquoi ce dossier" in page
    assert "Réseau de 3 auteurs : 6 avis sur 2 établissements" in page
    assert "(s)" not in page


def test_a_summary_is_worded_at_read_time_in_english():
    from django.utils import translation

    with translation.override("en"):
            assert case_summary(kind="sock_puppet_ring", n_reviews=1, n_reviewers=1,
                            n_establishments=1) == "Ring of 1 reviewer: 1 review of 1 establishment"


def test_an_unknown_kind_shows_its_code_instead_of_failing():
    assert kind_label("astroturfing") == "astroturfing"


def test_kind_labels_come_from_the_model():
    from django.utils import translation

    with translation.override("fr"):
        assert kind_label(Case.Kind.SOCK_PUPPET_RING) == "Réseau de faux comptes"


def test_the_queue_filtered_to_confirmed_counts_confirmed_cases():
    user = moderator()
    decided = ring_case()
    case_decide(case=decided, decision="confirmed", actor=user, note="Ring.")
    ring_case()

    page = client_for(user).get("/admin/cases/case/?status=confirmed").text

    assert "1 case shown (Confirmed)" in page
    assert "open cases, most severe first" not in page


def test_the_audit_list_names_the_assignee():
    user = moderator(first_name="Camille", last_name="Roux")
    case = ring_case()
    case_assign(case=case, assignee=user, actor=user)

    page = client_for(user).get("/admin/cases/caseevent/").text

    assert "— → Camille Roux" in page


def test_an_extended_entry_says_what_was_added():
    reviews = ring_reviews(members=2)
    case, _ = case_upsert(finding=finding_for(reviews))
    more = ring_reviews(partner=reviews[0].partner, members=1)
    case_upsert(finding=finding_for(reviews + more, severity=0.9))

    event = CaseEvent.objects.get(case=case, action="extended")
    page = client_for(moderator()).get("/admin/cases/caseevent/").text

    assert event.after["reviews_added"]
    assert "+2 reviews" in page and "+1 member" in page
