"""Cost growth of scoring with history (issue 14): per-review scoring cost and reconciliation time.

    .venv/bin/python -m bench.growth --json --sizes 100000 1000000

For each history size, a throw-away PostgreSQL database is loaded by COPY with
``bench/detect_load.py``'s synthetic history (that many reviews, their
establishments and reviewers, planted rings and bursts). Then, in this process:

- ``--batches`` batches of ``--batch-reviews`` new reviews (written now, by new
  reviewers, on the ``--establishments`` most-reviewed establishments of one
  partner) are ingested through the API view (Django's test client, no HTTP
  server; their queued scoring messages are purged: no worker runs);
- each batch is scored with ``apps.detection.services.reviews_score`` in chunks
  of ``SCORING_BATCH_SIZE`` ids, as the worker's task does; the cost of a batch
  is its wall time divided by its reviews (this process's CPU and the
  PostgreSQL backend's CPU, from /proc, are printed beside it); the figure is
  the median over the batches, after one untimed warm-up batch;
- batch reconciliation: ``manage.py detect`` run twice as a subprocess (wall
  time): the first run over the loaded history, then a repeat right after (what
  the next periodic run costs when little is new).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time

from bench import common, detect_load

WARMUP_REVIEWS = 100


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ingest(client, items: list[dict]) -> None:
    response = client.post("/api/v1/reviews/", data=json.dumps(items),
                           content_type="application/json")
    if response.status_code != 200:
        raise RuntimeError(f"ingest answered {response.status_code}: {response.content[:300]!r}")


def _review_ids(prefix: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM reviews_review WHERE external_id LIKE %s ORDER BY id",
                    [prefix + "-%"])
        return [row[0] for row in cur.fetchall()]


def _score(ids: list[int]) -> dict:
    """Score ``ids`` as the worker would (chunks of SCORING_BATCH_SIZE); wall and CPU."""
    from django.conf import settings
    from django.db import connection

    from apps.detection.services import reviews_score

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    pg0, cpu0, wall0 = common.cpu_seconds([backend]), time.process_time(), time.perf_counter()
    scored = held = 0
    size = settings.SCORING_BATCH_SIZE
    for start in range(0, len(ids), size):
        outcome = reviews_score(review_ids=ids[start:start + size])
        scored += outcome.scored
        held += outcome.held
    wall = time.perf_counter() - wall0
    return {"reviews": len(ids), "scored": scored, "held": held, "wall_s": round(wall, 3),
            "ms_per_review": round(1000 * wall / max(scored, 1), 3),
            "cpu_ms_per_review_this_process": round(
                1000 * (time.process_time() - cpu0) / max(scored, 1), 3),
            "cpu_ms_per_review_postgres": round(
                1000 * (common.cpu_seconds([backend]) - pg0) / max(scored, 1), 3)}


def _timed_detect(database: str) -> float:
    started = time.perf_counter()
    common.manage(database, "detect")
    return round(time.perf_counter() - started, 1)


def measure(size: int, args: argparse.Namespace) -> dict:
    db = args.database
    common.drop_database(db)
    load_started = time.perf_counter()
    detect_load.load(common.PG_URL.format(name=db), size, args.seed, log=_say)
    load_s = time.perf_counter() - load_started
    common.purge_queue()

    import psycopg
    from django.db import connection
    from django.test import Client

    partner_id, key = common.history_partner_key(db, "bench-growth")
    with psycopg.connect(common.PG_URL.format(name=db)) as pg:
        busiest = common.busiest_establishments(pg, partner_id, args.establishments)
    establishments = [{"external_id": ext} for ext, _ in busiest]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    prefixes = ["warm"] + [f"b{k}" for k in range(args.batches)]
    for k, prefix in enumerate(prefixes):
        n = WARMUP_REVIEWS if prefix == "warm" else args.batch_reviews
        reviewers = common.make_reviewers(n, prefix=f"gu{prefix}", seed=50 + k)
        items = common.make_reviews(n, establishments, reviewers, prefix=prefix, seed=60 + k,
                                    now=now, spread_days=0)
        for start in range(0, n, 1000):
            _ingest(client, items[start:start + 1000])
    common.purge_queue()  # no worker: these reviews are scored below, in this process

    _score(_review_ids("warm"))
    batches = [_score(_review_ids(prefix)) for prefix in prefixes[1:]]
    _say(f"history {size:,}: scoring batches {[b['ms_per_review'] for b in batches]} ms/review")
    detect_first = _timed_detect(db)
    detect_repeat = _timed_detect(db)
    _say(f"history {size:,}: manage.py detect {detect_first} s, repeat {detect_repeat} s")
    connection.close()
    return {
        "history_reviews": size,
        "load_s": round(load_s, 1),
        "establishments": len(busiest),
        "history_per_establishment_mean": round(statistics.fmean(n for _, n in busiest), 1),
        "history_per_establishment_max": max(n for _, n in busiest),
        "scoring_ms_per_review_median": round(
            statistics.median(b["ms_per_review"] for b in batches), 3),
        "scoring_reviews_per_s_median": round(
            1000 / statistics.median(b["ms_per_review"] for b in batches), 1),
        "scoring_batches": batches,
        "reconciliation_detect_s_first": detect_first,
        "reconciliation_detect_s_repeat": detect_repeat,
        "load_avg": common.load_average(),
    }


def markdown(result: dict) -> str:
    lines = ["| history | load (COPY) | per-review scoring, median | reviews/s | detect first "
             "| detect repeat |", "| --- | --- | --- | --- | --- | --- |"]
    for row in result["sizes"]:
        lines.append(
            f"| {row['history_reviews']:,} | {row['load_s']} s | "
            f"{row['scoring_ms_per_review_median']} ms | {row['scoring_reviews_per_s_median']} | "
            f"{row['reconciliation_detect_s_first']} s | {row['reconciliation_detect_s_repeat']} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--batch-reviews", type=int, default=1000)
    parser.add_argument("--establishments", type=int, default=200)
    parser.add_argument("--seed", type=int, default=6, help="detect_load's seed")
    common.add_run_arguments(parser, database="rg_bench_growth")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    common.setup_django(args.database)
    from django.conf import settings

    result: dict = {
        "benchmark": "scoring cost growth with history (issue 14)",
        "rule": "per-review cost = wall time of reviews_score over a batch (chunks of "
                "SCORING_BATCH_SIZE) / reviews scored, median over batches; reconciliation = "
                "wall time of `manage.py detect` (first run, then a repeat)",
        "batch_reviews": args.batch_reviews, "batches": args.batches,
        "scoring_batch_size": settings.SCORING_BATCH_SIZE,
        "load_avg_start": common.load_average(),
        "sizes": [measure(size, args) for size in args.sizes],
    }
    costs = [row["scoring_ms_per_review_median"] for row in result["sizes"]]
    result["cost_ratio_largest_vs_smallest"] = round(costs[-1] / costs[0], 2)
    result["goals"] = {"per-review cost within 1.5x from smallest to largest":
                       result["cost_ratio_largest_vs_smallest"] <= 1.5}
    result["run_s"] = round(time.perf_counter() - started, 1)
    if not args.keep_database:
        common.drop_database(args.database)
    common.dump(result, args.json)
    print(markdown(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
