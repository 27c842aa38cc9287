"""The transparency report: counts from aggregate queries, a public page (FR/EN), a CSV."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.cases.services import case_decide, review_appeal_file
from apps.reports.transparency import period_parse, transparency_report
from tests.factories import PartnerFactory, ReviewFactory
from tests.factories_cases import moderator, ring_case
from tests.factories_reports import ThreatReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(db):
    """A partner's month: 6 ring reviews removed (one appealed), 3 held, 4 published."""
    partner = PartnerFactory(name="Voyages Azur")
    ring = ring_case(partner=partner, members=3, establishments=2)
    case_decide(case=ring, decision="confirmed", actor=moderator(), note="Ring.")
    appealed = ring.reviews.order_by("id").first()
    review_appeal_file(review=appealed, statement="Real stay.", partner=partner)
    for _ in range(3):
        ReviewFactory(partner=partner, status="held")
    for _ in range(4):
        ReviewFactory(partner=partner, status="published")
    ThreatReportFactory(establishment__partner=partner, status="dismissed")
    return partner


def report_of(partner):
    return transparency_report(partner=partner, period=period_parse(None))


def test_it_counts_what_became_of_the_months_reviews(month):
    report = report_of(month)

    assert (report.received, report.screened) == (13, 13)
    assert (report.held, report.removed, report.published) == (3, 6, 4)


def test_it_breaks_reviews_down_by_kind_of_finding(month):
    rows = {row.kind: row for row in report_of(month).by_kind}

    assert rows["sock_puppet_ring"].reviews == 6
    assert rows["sock_puppet_ring"].removed == 6


def test_it_counts_appeals_and_owner_reports_by_outcome(month):
    data = report_of(month).as_dict()

    assert data["appeals"]["review_removed"] == {"open": 1, "upheld": 0, "overturned": 0}
    assert data["reports"]["filed"] == 1 and data["reports"]["dismissed"] == 1


def test_the_median_time_to_decision_covers_the_cases_decided_in_the_month(month):
    report = report_of(month)

    assert report.cases_decided == 1
    assert report.median_hours_to_decision is not None


def test_another_partners_reviews_do_not_count(month):
    ReviewFactory(partner=PartnerFactory(), status="held")

    assert report_of(month).held == 3


def test_the_query_count_does_not_grow_with_the_reviews(month, django_assert_max_num_queries):
    for _ in range(30):
        ReviewFactory(partner=month, status="published")

    with django_assert_max_num_queries(8):
        report_of(month)


def test_a_malformed_period_is_refused():
    from apps.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError):
        period_parse("2026-13")


def test_the_public_page_shows_the_figures_and_the_chart(month):
    page = Client().get("/transparency/voyages-azur/")

    assert page.status_code == 200
    assert "<svg" in page.text and "Reviews screened" in page.text


def test_the_public_page_identifies_nobody(month):
    page = Client().get("/transparency/voyages-azur/").text

    for review in month.reviews.select_related("reviewer"):
        assert review.reviewer.display_name not in page
        assert review.external_id not in page


def test_the_public_page_speaks_french(month):
    page = Client().get(f"/transparency/{month.pk}/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "Avis examinés" in page.text


def test_the_csv_export_has_one_row_per_figure(month):
    response = Client().get("/transparency/voyages-azur/export.csv")

    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "partner,period,section,item,value"
    assert any(line.endswith("reviews,removed,6") for line in lines)


def test_an_unknown_partner_is_a_404(db):
    assert Client().get("/transparency/nobody/").status_code == 404
