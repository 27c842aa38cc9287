"""Table maintenance: autovacuum's rules, applied by ReviewGuard when the server's
autovacuum is off."""

import pytest
from django.db import connection

from apps.core.maintenance import TableStats, action_for, tables_maintain
from apps.reviews.models import Review
from tests.factories import ReviewFactory


def stats(live=10_000, dead=0, modified=0, inserted=0) -> TableStats:
    return TableStats("reviews_review", live, dead, modified, inserted)


def test_a_quiet_table_is_left_alone():
    assert action_for(stats(dead=100, modified=100, inserted=100)) is None


def test_a_table_with_many_dead_rows_is_vacuumed_and_analysed():
    assert action_for(stats(dead=2_100)) == "VACUUM (ANALYZE)"


def test_a_table_grown_by_inserts_is_vacuumed_for_its_visibility_map():
    assert action_for(stats(inserted=3_100)) == "VACUUM (ANALYZE)"


def test_a_table_with_many_changes_since_its_statistics_is_analysed():
    assert action_for(stats(modified=1_100)) == "ANALYZE"


pg_only = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="VACUUM and pg_stat_user_tables are PostgreSQL's")


def _visible_pages(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relallvisible FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pg_only
@pytest.mark.django_db(transaction=True)
def test_maintenance_vacuums_a_table_whose_rows_were_rewritten():
    ReviewFactory.create_batch(300)
    Review.objects.update(risk_score=0.5)  # as verdicts do: 300 dead row versions
    with connection.cursor() as cursor:  # the statistics views lag the writes otherwise
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert _visible_pages("reviews_review") == 0

    done = tables_maintain(force=True)

    assert 'VACUUM (ANALYZE) "reviews_review"' in done
    assert _visible_pages("reviews_review") > 0


@pg_only
@pytest.mark.django_db(transaction=True)
def test_maintenance_leaves_it_to_the_server_when_its_autovacuum_is_on(monkeypatch):
    monkeypatch.setattr("apps.core.maintenance.server_autovacuum_on", lambda: True)
    ReviewFactory.create_batch(300)
    Review.objects.update(risk_score=0.5)

    assert tables_maintain() == []


def test_the_tables_kept_include_many_to_many_links():
    from apps.core.maintenance import _project_tables

    assert {"reviews_review", "cases_case_reviews", "detection_textband"} <= set(_project_tables())
