"""Keep ReviewGuard's tables vacuumed and analysed when PostgreSQL does not.

Every review is inserted and then rewritten by its verdict; the text band index,
cases and webhook deliveries grow with it. PostgreSQL's autovacuum normally
cleans the dead row versions, sets the visibility map and refreshes the planner's
statistics. With autovacuum off (as on this project's benchmark and CI machines,
``/etc/postgresql/15/main/conf.d/90-ci.conf``), none of that happens: the tables
bloat with history and the planner keeps the statistics of the day they were
created. At a million reviews, after 100,000 new ones, a scoring batch of 3,000
took 5.2 s; analysed, 4.6 s; vacuumed too, 3.9-4.3 s (bench/RESULTS.md, issue 14).

``tables_maintain`` (a periodic task on the batch queue) applies autovacuum's
own default rules to the project's tables, and does nothing while the server's
autovacuum is on (it is then the server's job) or on another database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.apps import apps
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# PostgreSQL's defaults for autovacuum (autovacuum_*_threshold / *_scale_factor).
ANALYZE_THRESHOLD, ANALYZE_SCALE = 50, 0.1
VACUUM_THRESHOLD, VACUUM_SCALE = 50, 0.2
INSERT_THRESHOLD, INSERT_SCALE = 1000, 0.2
#: A table locked by someone else's VACUUM or DDL is skipped, not waited for.
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class TableStats:
    table: str
    live: int
    dead: int
    modified_since_analyze: int
    inserted_since_vacuum: int


def action_for(stats: TableStats) -> str | None:
    """What autovacuum would do to this table now: "VACUUM (ANALYZE)", "ANALYZE" or None."""
    vacuum = (stats.dead > VACUUM_THRESHOLD + VACUUM_SCALE * stats.live
              or stats.inserted_since_vacuum > INSERT_THRESHOLD + INSERT_SCALE * stats.live)
    if vacuum:
        return "VACUUM (ANALYZE)"
    if stats.modified_since_analyze > ANALYZE_THRESHOLD + ANALYZE_SCALE * stats.live:
        return "ANALYZE"
    return None


def _project_tables() -> list[str]:
    return sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True)
                   if m.__module__.startswith("apps.") and m._meta.managed})


def _table_stats(tables: list[str]) -> list[TableStats]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum "
            "FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND relname = ANY(%s)", [tables])
        return [TableStats(*row) for row in cursor.fetchall()]


def server_autovacuum_on() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('autovacuum')")
        return cursor.fetchone()[0] == "on"


def tables_maintain(*, force: bool = False) -> list[str]:
    """Vacuum or analyse each project table that autovacuum's rules say is due.

    Returns what was done ("ANALYZE reviews_review", ...). Nothing on a database
    other than PostgreSQL, or while the server's autovacuum is on (unless
    ``force``). Must run outside a transaction (VACUUM cannot run in one).
    """
    if connection.vendor != "postgresql" or (not force and server_autovacuum_on()):
        return []
    done = []
    for stats in _table_stats(_project_tables()):
        action = action_for(stats)
        if action is None:
            continue
        statement = f"{action} {connection.ops.quote_name(stats.table)}"
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
                try:
                    cursor.execute(statement)
                finally:
                    cursor.execute("RESET lock_timeout")
        except DatabaseError:
            logger.warning("%s skipped", statement, exc_info=True)
            continue
        done.append(statement)
    if done:
        logger.info("table maintenance: %s", "; ".join(done))
    return done
