"""Bulk ingest throughput (issue 3, benchmark 1): the API beside raw PostgreSQL COPY.

    .venv/bin/python -m bench.ingest --reviews 100000 --clients 4 --workers 3

One run, one fresh database. The same review payloads are stored three ways:

1. ``copy-before``: raw ``COPY reviews_review FROM STDIN`` (psycopg) of the rows
   the API would store (hashes precomputed, reviewers pre-created), one
   transaction, under a partner of its own;
2. ``api``: ``POST /api/v1/reviews/`` in batches of 1,000 from several
   concurrent clients to gunicorn (the API creates the reviewers itself);
3. ``copy-after``: the COPY again, under a third partner, once the table holds
   the API's rows too (so neither side is favoured by table size).

Scoring is enqueued on commit to our own Redis queue. By default no Celery
worker runs during ingest and the queue is purged afterwards; ``--with-worker``
runs ``celery worker -c 2`` throughout and also reports how long scoring takes
to catch up. ``--profile`` samples the gunicorn workers with py-spy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import time
from pathlib import Path

from bench import common

COPY_COLUMNS = (
    "partner_id", "external_id", "establishment_id", "reviewer_id", "rating", "title", "text",
    "language", "visit_date", "created_at", "received_at", "ip_hash", "ip24_hash", "device_hash",
    "booking_ref_hash", "payload_hash", "status", "risk_reasons", "enqueued_at",
)

# Regexes over py-spy collapsed stacks (frames "func (path:line)" joined by ";").
PROFILE_BUCKETS = {
    "json_parse (DRF JSONParser)": r"JSONParser\.parse ",
    "validation (validate_one_or_many)": r"validate_one_or_many ",
    "payload_fingerprint (json.dumps + HMAC)": r"payload_fingerprint ",
    "PII hashes (HMAC, ipaddress)": r"apps/reviews/pii\.py",
    "reviewers upsert (3 queries)": r"_upsert_reviewers ",
    "Review(...) instances (_new_review)": r"_new_review ",
    "Review.bulk_create": r"reviews_ingest [^;]*;(?:(?!_upsert_reviewers)[^;]*;)*QuerySet\.bulk_create ",
    "SELECT stored/created reviews": r"reviews_ingest [^;]*;(?:(?!_upsert_reviewers)[^;]*;)*(?:QuerySet\.__iter__|QuerySet\._fetch_all) ",
    "transaction commit": r"Atomic\.__exit__ [^;]*;(?:[^;]*;)*[^;]*commit ",
    "enqueue_scoring (Celery publish)": r"enqueue_scoring ",
    "response rendering (JSONRenderer)": r"JSONRenderer\.render ",
    "authentication": r"perform_authentication ",
    "throttle": r"check_throttles ",
    "waiting on PostgreSQL (psycopg wait)": r"psycopg/connection\.py:\d+\)$|Connection\.wait |waiting\.py",
}


# --- the COPY side ---------------------------------------------------------------------


def prepare_copy_rows(*, partner_id: int, reviews: list[dict], establishment_ids: dict[str, int],
                      reviewer_ids: dict[str, int]) -> list[tuple]:
    """The rows the API would store: validated, hashed, fingerprinted (not timed)."""
    from apps.core.validation import validate_object
    from apps.reviews import pii
    from apps.reviews.schemas import REVIEW_FIELDS
    from apps.reviews.services import payload_fingerprint

    now = dt.datetime.now(dt.UTC)
    rows = []
    for raw in reviews:
        item, errors = validate_object(REVIEW_FIELDS, raw)
        assert not errors, errors
        reviewer = item["reviewer"]
        ip_hash, ip24_hash = pii.ip_hashes(reviewer["ip"])
        rows.append((
            partner_id, item["external_id"], establishment_ids[item["establishment"]],
            reviewer_ids[reviewer["external_id"]], item["rating"], item["title"], item["text"],
            item["language"], item["visit_date"], item["created_at"], now, ip_hash, ip24_hash,
            pii.device_hash(reviewer["device_id"]), pii.booking_ref_hash(item["booking_ref"]),
            payload_fingerprint(item), "pending", "[]", now,
        ))
    return rows


def precreate_reviewers(conn, partner_id: int, reviewers: list[dict]) -> dict[str, int]:
    from apps.reviews import pii

    now = dt.datetime.now(dt.UTC)
    with conn.cursor() as cur:
        with cur.copy("COPY reviews_reviewer (partner_id, external_id, display_name, email_hash, "
                      "account_created_at, flagged, created_at) FROM STDIN") as copy:
            for r in reviewers:
                copy.write_row((partner_id, r["external_id"], r["display_name"],
                                pii.email_hash(r["email"]), r["account_created_at"], False, now))
        cur.execute("SELECT external_id, id FROM reviews_reviewer WHERE partner_id = %s",
                    (partner_id,))
        ids = dict(cur.fetchall())
    conn.commit()
    return ids


def timed_copy(conn, rows: list[tuple]) -> float:
    """Seconds to COPY ``rows`` into reviews_review and commit."""
    started = time.perf_counter()
    sql = f"COPY reviews_review ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    conn.commit()
    return time.perf_counter() - started


# --- the API side ------------------------------------------------------------------------


async def post_batches(port: int, api_key: str, bodies: list[bytes], clients: int,
                       time_limit: float) -> dict:
    queue = list(reversed(bodies))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counts = {"created": 0, "unchanged": 0, "conflicts": 0}
    deadline = time.perf_counter() + time_limit

    async def client() -> None:
        conn = common.HttpConnection(port, api_key)
        try:
            while queue and time.perf_counter() < deadline:
                body = queue.pop()
                t0 = time.perf_counter()
                status, data = await conn.request("POST", "/api/v1/reviews/", body)
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    answer = json.loads(data)
                    for k in counts:
                        counts[k] += answer[k]
                else:
                    print(f"batch answered {status}: {data[:300]!r}")
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "statuses": statuses, "latency_ms": common.ms(
        common.percentiles(latencies, (50, 95))), "unsent_batches": len(queue), **counts}


def wait_scored(database_pending_sql, timeout: float) -> tuple[float, int]:
    """Seconds until no review is pending (bounded by ``timeout``), and how many remain."""
    started = time.perf_counter()
    while True:
        remaining = database_pending_sql()
        if remaining == 0 or time.perf_counter() - started > timeout:
            return time.perf_counter() - started, remaining
        time.sleep(1.0)


# Indexes on reviews_review that no query needs: LIKE-pattern twins of hash columns
# (Django adds them to every indexed CharField) and single-column indexes that a
# composite index already leads with. Every insert maintains them.
REDUNDANT_INDEX_SQL = """
SELECT indexname FROM pg_indexes WHERE tablename = 'reviews_review' AND (
    indexdef LIKE '%%varchar_pattern_ops%%'
    OR indexdef ~ 'USING btree \\((partner_id|establishment_id|reviewer_id|status)\\)$')
"""


def drop_redundant_indexes(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(REDUNDANT_INDEX_SQL)
        names = [r[0] for r in cur.fetchall()]
        for name in names:
            cur.execute(f'DROP INDEX "{name}"')
    conn.commit()
    return names


def run(args: argparse.Namespace) -> dict:
    db = args.database
    out_dir = Path(args.out)
    for old in out_dir.glob("ingest-profile.*.txt"):
        old.unlink()
    common.reset_database(db)
    common.reset_broker_state()
    keys = {name: common.create_partner(db, f"bench-{name}") for name in ("copy1", "api", "copy2")}
    common.setup_django(db)
    import psycopg
    from django.db import connection

    from apps.partners.models import Partner

    partner_ids = {name: Partner.objects.get(name=f"bench-{name}").id for name in keys}

    establishments = common.make_establishments(args.establishments)
    reviewers = common.make_reviewers(args.reviewers)
    reviews = common.make_reviews(args.reviews, establishments, reviewers, prefix="rv")
    bodies = [json.dumps(reviews[i:i + args.batch]).encode()
              for i in range(0, len(reviews), args.batch)]
    payload_mb = sum(len(b) for b in bodies) / 1e6
    config = common.ServerConfig(workers=args.workers, threads=args.threads)
    result: dict = {
        "benchmark": "bulk ingest (issue 3.1)",
        "reviews": args.reviews, "batch": args.batch, "clients": args.clients,
        "establishments": args.establishments, "reviewers": args.reviewers,
        "payload_mb": round(payload_mb, 1),
        "mean_text_chars": round(sum(len(r["text"]) for r in reviews) / len(reviews)),
        "server": config.describe(), "celery_worker_during_ingest": args.with_worker,
        "cpus": os.cpu_count(), "load_avg_start": common.load_average(),
    }
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('synchronous_commit'), "
                    "current_setting('shared_buffers'), version()")
        sync, buffers, version = cur.fetchone()
    result["postgres"] = {"version": version.split(" on ")[0], "synchronous_commit": sync,
                          "shared_buffers": buffers}
    connection.close()

    pg = psycopg.connect(common.PG_URL.format(name=db))
    if args.drop_redundant_indexes:
        result["dropped_indexes"] = drop_redundant_indexes(pg)
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'reviews_review'")
        result["reviews_review_indexes"] = cur.fetchone()[0]
    log = out_dir / "gunicorn-ingest.log"
    with common.gunicorn(db, config, log) as port:
        for key in keys.values():
            common.register_establishments(port, key, establishments)
        with pg.cursor() as cur:
            cur.execute("SELECT partner_id, external_id, id FROM establishments_establishment")
            est_ids: dict[int, dict[str, int]] = {}
            for pid, ext, eid in cur.fetchall():
                est_ids.setdefault(pid, {})[ext] = eid

        # Warm every worker on the real path (lazy imports, DB and broker connections):
        # small batches of other reviews, not timed and not counted.
        warm = common.make_reviews(100 * 4 * args.workers, establishments, reviewers,
                                   prefix="warm", seed=99)
        asyncio.run(post_batches(port, keys["api"], [json.dumps(warm[i:i + 100]).encode()
                                                     for i in range(0, len(warm), 100)],
                                 args.workers, 60))
        copy_rows = {}
        prep_started = time.perf_counter()
        for name in ("copy1", "copy2"):
            pid = partner_ids[name]
            rev_ids = precreate_reviewers(pg, pid, reviewers)
            copy_rows[name] = prepare_copy_rows(partner_id=pid, reviews=reviews,
                                                establishment_ids=est_ids[pid],
                                                reviewer_ids=rev_ids)
        result["copy_row_prep_s_per_run"] = round((time.perf_counter() - prep_started) / 2, 2)
        with pg.cursor() as cur:
            cur.execute("CHECKPOINT")

        copy_before = timed_copy(pg, copy_rows["copy1"])
        with pg.cursor() as cur:
            cur.execute("CHECKPOINT")

        worker_ctx = (common.celery_worker(db, out_dir / "celery-ingest.log")
                      if args.with_worker else contextlib.nullcontext())
        with worker_ctx:
            if args.with_worker:
                # COPY'd rows are not the worker's business: mark them scored.
                common.mark_history_scored(pg)
            pids = common.gunicorn_pids(port)
            load_before_api = common.load_average()
            profile_ctx = (common.py_spy(pids, out_dir / "ingest-profile", int(args.time_limit))
                           if args.profile else contextlib.nullcontext())
            with (profile_ctx, common.PgActivitySampler(db) as activity,
                  common.CpuMeter(pids) as cpu):
                api = asyncio.run(post_batches(port, keys["api"], bodies, args.clients,
                                               args.time_limit))
            web_cpu, pg_cpu = cpu.web, activity.backend_cpu_seconds
            api_rate = api["created"] / api["seconds"]
            result["api"] = {
                **api, "seconds": round(api["seconds"], 2), "reviews_per_s": round(api_rate),
                "load_avg_before": load_before_api, "load_avg_after": common.load_average(),
                "cpu_s_gunicorn": round(web_cpu, 1), "cpu_s_postgres_backends": round(pg_cpu, 1),
                "cpu_ms_per_review_gunicorn": round(1000 * web_cpu / max(api["created"], 1), 3),
                "cpu_ms_per_review_postgres": round(1000 * pg_cpu / max(api["created"], 1), 3),
                "two_core_ceiling_reviews_per_s": round(
                    2 * api["created"] / max(web_cpu + pg_cpu, 1e-9)),
                "pg_activity": activity.summary(),
            }
            if args.with_worker:
                drain_s, left = wait_scored(lambda: common.count_pending(pg), args.drain_timeout)
                result["scoring_catch_up"] = {
                    "seconds_after_ingest": round(drain_s, 1), "still_pending": left,
                    "scored_per_s_overall": round(
                        (api["created"] - left) / (api["seconds"] + drain_s)),
                }
        with pg.cursor() as cur:
            cur.execute("CHECKPOINT")
        copy_after = timed_copy(pg, copy_rows["copy2"])
    purged = common.purge_queue()

    with pg.cursor() as cur:
        cur.execute("SELECT partner_id, count(*) FROM reviews_review "
                    "WHERE external_id NOT LIKE 'warm-%%' GROUP BY partner_id")
        stored = dict(cur.fetchall())
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('reviews_review'))")
        table_size = cur.fetchone()[0]
    pg.close()
    n = args.reviews
    copy_rate = n / ((copy_before + copy_after) / 2)
    result["copy"] = {
        "before_s": round(copy_before, 2), "after_s": round(copy_after, 2),
        "reviews_per_s_before": round(n / copy_before), "reviews_per_s_after": round(n / copy_after),
        "reviews_per_s_mean": round(copy_rate),
    }
    result["stored_rows"] = {"api": stored.get(partner_ids["api"], 0),
                             "copy": stored.get(partner_ids["copy1"], 0)}
    result["reviews_table_size"] = table_size
    result["scoring_messages_purged"] = purged
    result["api_vs_copy_pct"] = round(100 * api_rate / copy_rate, 1)
    result["goals"] = {"api >= 25% of COPY": result["api_vs_copy_pct"] >= 25,
                       "api >= 5000 reviews/s": api_rate >= 5000}
    result["load_avg_end"] = common.load_average()
    if args.profile:
        files = sorted(out_dir.glob("ingest-profile.*.txt"))
        result["profile"] = common.summarise_profile(files, PROFILE_BUCKETS)
        result["profile"]["files"] = [str(f) for f in files]
    if not args.keep_database:
        common.drop_database(db)
    return result


# Functions whose cumulative time the --stages profile reports: (file suffix, name).
STAGES = {
    "whole request (Client.post)": ("django/test/client.py", "post"),
    "JSON parse (JSONParser.parse)": ("rest_framework/parsers.py", "parse"),
    "validation (validate_one_or_many)": ("apps/core/payloads.py", "validate_one_or_many"),
    "reviews_ingest": ("apps/reviews/services.py", "reviews_ingest"),
    "  payload_fingerprint": ("apps/reviews/services.py", "payload_fingerprint"),
    "  _upsert_reviewers": ("apps/reviews/services.py", "_upsert_reviewers"),
    "  _new_review (Review instances + PII hashes)": ("apps/reviews/services.py", "_new_review"),
    "    of which PII ip_hashes (ipaddress)": ("apps/reviews/pii.py", "ip_hashes"),
    "  QuerySet.bulk_create (reviewers and reviews)": ("django/db/models/query.py", "bulk_create"),
    "  commit": ("django/db/backends/base/base.py", "_commit"),
    "  enqueue_scoring (publish to Redis)": ("apps/reviews/services.py", "enqueue_scoring"),
    "all SQL round trips (psycopg execute)": ("psycopg/cursor.py", "execute"),
    "model __init__ (Review/Reviewer instances)": ("django/db/models/base.py", "__init__"),
    "signals (pre_init/post_init)": ("django/dispatch/dispatcher.py", "send"),
    "response render (JSONRenderer)": ("rest_framework/renderers.py", "render"),
}


def stages(args: argparse.Namespace) -> dict:
    """In-process breakdown of one worker's cost per review (no HTTP, no concurrency).

    The real view through Django's test client against the benchmark database:
    first timed plainly (one core's ceiling), then under cProfile (cumulative
    time per stage; cProfile inflates call-heavy code such as validation).
    """
    import cProfile
    import pstats

    db = args.database
    common.reset_database(db)
    common.purge_queue()
    key = common.create_partner(db, "bench-stages")
    common.setup_django(db)
    from django.test import Client

    from apps.establishments.services import establishments_upsert
    from apps.partners.models import Partner

    establishments = common.make_establishments(args.establishments)
    reviewers = common.make_reviewers(args.reviewers)
    partner = Partner.objects.get(name="bench-stages")
    establishments_upsert(partner=partner, items=establishments)
    reviews = common.make_reviews(args.reviews, establishments, reviewers, prefix="st")
    bodies = [json.dumps(reviews[i:i + args.batch]).encode()
              for i in range(0, len(reviews), args.batch)]
    half = len(bodies) // 2
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    def post(body: bytes) -> None:
        response = client.post("/api/v1/reviews/", data=body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    post(json.dumps(common.make_reviews(50, establishments, reviewers, prefix="w")).encode())
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    pg0 = common.cpu_seconds([backend])
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for body in bodies[:half]:
        post(body)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    pg_cpu = common.cpu_seconds([backend]) - pg0
    n_plain = sum(len(json.loads(b)) for b in bodies[:half])
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies[half:]:
        post(body)
    profiler.disable()
    n_prof = len(reviews) - n_plain
    stats = pstats.Stats(profiler).stats
    cumulative = {}
    for label, (suffix, name) in STAGES.items():
        total = sum(ct for (file, _, func), (_, _, _, ct, _) in stats.items()
                    if func == name and file.endswith(suffix))
        cumulative[label] = round(1e6 * total / n_prof, 1)
    purged = common.purge_queue()
    if not args.keep_database:
        common.drop_database(db)
    return {
        "benchmark": "in-process ingest stages (issue 3.1, one process, no HTTP)",
        "reviews_timed_plain": n_plain, "batch": args.batch,
        "plain_us_per_review_wall": round(1e6 * wall / n_plain, 1),
        "plain_us_per_review_cpu_this_process": round(1e6 * cpu / n_plain, 1),
        "plain_us_per_review_cpu_postgres_backend": round(1e6 * pg_cpu / n_plain, 1),
        "plain_reviews_per_s_one_process": round(n_plain / wall),
        "two_core_ceiling_reviews_per_s": round(2 * n_plain / (cpu + pg_cpu)),
        "reviews_profiled": n_prof,
        "cprofile_cumulative_us_per_review": cumulative,
        "scoring_messages_purged": purged, "load_avg": common.load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help=">1: gthread workers")
    parser.add_argument("--establishments", type=int, default=2000)
    parser.add_argument("--reviewers", type=int, default=40_000)
    parser.add_argument("--with-worker", action="store_true",
                        help="run a Celery worker (-c 2) during ingest")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--profile", action="store_true", help="py-spy the gunicorn workers")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="stop sending batches after this many seconds")
    parser.add_argument("--drop-redundant-indexes", action="store_true",
                        help="what-if: drop the 9 indexes of reviews_review no query needs")
    common.add_run_arguments(parser, database="reviewguard_bench_ingest")
    parser.add_argument("--stages", action="store_true",
                        help="instead: in-process cost per review by stage (cProfile)")
    args = parser.parse_args()
    common.dump(stages(args) if args.stages else run(args), args.json)


if __name__ == "__main__":
    main()
