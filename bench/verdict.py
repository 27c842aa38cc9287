"""Ingest-to-verdict latency through a real Celery worker (issue 3, benchmark 3).

    .venv/bin/python -m bench.verdict --rate 10 --duration 30

PostgreSQL + Redis, ``gunicorn`` for the API and ``celery -A reviewguard worker
-c 2`` for scoring, both started here and stopped at the end. The database is
first seeded with history (reviews already scored, so the scorer has real
reviewer and establishment context to load); then new reviews are posted one
per request at a steady rate, from a few concurrent clients. The verdict time
of a review is when its status left ``pending`` (``status_changed_at``), read
from the database once every posted review is decided (bounded wait); it is
reported from the client's send time (end to end) and from ``received_at``
(the server's clock at insert). A sample of reviews is also read back through
``GET /api/v1/reviews/{id}/`` to check that the API shows the verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from bench import common


async def post_steadily(port: int, api_key: str, items: list[dict], *, rate: float,
                        clients: int, duration: float, batch: int) -> dict:
    """POST ``items`` (``batch`` per request) at ``rate`` reviews/s; returns send times."""
    groups = [items[i:i + batch] for i in range(0, len(items), batch)]
    per_second = rate / batch
    sent_at: dict[str, float] = {}
    statuses: dict[int, int] = {}
    start = time.time() + 0.2
    end = start + duration
    queue = list(reversed(list(enumerate(groups))))

    async def client() -> None:
        conn = common.HttpConnection(port, api_key)
        try:
            while queue:
                k, group = queue.pop()
                scheduled = start + k / per_second
                if scheduled >= end:
                    break
                if scheduled > time.time():
                    await asyncio.sleep(scheduled - time.time())
                body = json.dumps(group[0] if batch == 1 else group).encode()
                t0 = time.time()
                status, _ = await conn.request("POST", "/api/v1/reviews/", body)
                statuses[status] = statuses.get(status, 0) + 1
                for item in group:
                    sent_at[item["external_id"]] = t0
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return {"sent_at": sent_at, "statuses": statuses}


def decided(pg, external_ids: list[str]) -> list[tuple]:
    with pg.cursor() as cur:
        cur.execute(
            "SELECT external_id, status, extract(epoch from received_at), "
            "extract(epoch from scored_at), extract(epoch from status_changed_at) "
            "FROM reviews_review WHERE external_id = ANY(%s)", (external_ids,))
        rows = cur.fetchall()
    pg.commit()
    return rows


def run(args: argparse.Namespace) -> dict:
    import psycopg

    db = args.database
    out_dir = Path(args.out)
    common.reset_database(db)
    common.reset_broker_state()
    key = common.create_partner(db, "bench-verdict")
    establishments = common.make_establishments(args.establishments)
    reviewers = common.make_reviewers(args.reviewers)
    server = common.ServerConfig(workers=args.workers, threads=args.threads)
    result: dict = {
        "benchmark": "ingest-to-verdict latency (issue 3.3)",
        "server": server.describe(), "celery": "celery -A reviewguard worker -c 2 (prefork)",
        "broker": common.BROKER_URL, "rate_per_s": args.rate, "batch": args.batch,
        "duration_s": args.duration, "clients": args.clients,
        "seed_reviews": args.seed_reviews, "establishments": args.establishments,
        "cpus": os.cpu_count(), "load_avg_start": common.load_average(),
    }
    pg = psycopg.connect(common.PG_URL.format(name=db))
    with common.gunicorn(db, server, out_dir / "gunicorn-verdict.log") as port:
        common.register_establishments(port, key, establishments)
        # History that the scorer loads as context; it is not the worker's to score.
        seeded = common.make_reviews(args.seed_reviews, establishments, reviewers, prefix="seed")
        for i in range(0, len(seeded), 1000):
            common.post_json_sync(port, key, "/api/v1/reviews/", seeded[i:i + 1000])
        common.mark_history_scored(pg)

        with common.celery_worker(db, out_dir / "celery-verdict.log", concurrency=2):
            # Warm-up: a few reviews decided end to end before anything is timed.
            warm = common.make_reviews(6, establishments, reviewers, prefix="warm", seed=5)
            asyncio.run(post_steadily(port, key, warm, rate=3, clients=1, duration=3, batch=1))
            deadline = time.time() + 90
            while time.time() < deadline:
                if all(r[1] != "pending" for r in decided(pg, [w["external_id"] for w in warm])):
                    break
                time.sleep(0.5)
            else:
                raise RuntimeError("the worker did not decide the warm-up reviews in 90 s")

            items = common.make_reviews(int(args.rate * args.duration) + args.batch,
                                        establishments, reviewers, prefix="vd", seed=21)
            load_before = common.load_average()
            sent = asyncio.run(post_steadily(port, key, items, rate=args.rate,
                                             clients=args.clients, duration=args.duration,
                                             batch=args.batch))
            ids = list(sent["sent_at"])
            posted_until = time.time()
            deadline = posted_until + args.wait
            while True:
                rows = decided(pg, ids)
                pending = sum(1 for r in rows if r[1] == "pending")
                if pending == 0 or time.time() > deadline:
                    break
                time.sleep(0.25)
            drained_after = time.time() - posted_until
            load_after = common.load_average()

            sample = ids[:: max(1, len(ids) // 20)]
            via_api = {}
            for ext in sample:
                status, body = asyncio.run(_get(port, key, ext))
                via_api[ext] = (status, body.get("status"), body.get("risk", {}).get("score"))
    common.purge_queue()

    end_to_end, from_received, scoring = [], [], []
    outcome: dict[str, int] = {}
    for ext, status, received, scored, changed in rows:
        outcome[status] = outcome.get(status, 0) + 1
        if changed is None:
            continue
        end_to_end.append(float(changed) - sent["sent_at"][ext])
        from_received.append(float(changed) - float(received))
        scoring.append(float(changed) - float(scored))
    api_ok = sum(1 for s, st, _ in via_api.values() if s == 200 and st != "pending")
    result.update({
        "posted": len(ids), "post_statuses": sent["statuses"], "outcome": outcome,
        "undecided_after_wait": pending, "wait_bound_s": args.wait,
        "queue_drained_s_after_last_post": round(drained_after, 2),
        "verdict_latency_from_send_ms": common.ms(common.percentiles(end_to_end, (50, 95, 99))),
        "verdict_latency_from_received_at_ms": common.ms(
            common.percentiles(from_received, (50, 95, 99))),
        "api_sample_decided": f"{api_ok}/{len(via_api)}",
        "load_avg_before": load_before, "load_avg_after": load_after,
    })
    p95 = result["verdict_latency_from_send_ms"].get("p95", 1e9)
    result["goals"] = {"p95 <= 2 s": p95 <= 2000 and pending == 0}
    pg.close()
    if not args.keep_database:
        common.drop_database(db)
    return result


async def _get(port: int, key: str, external_id: str) -> tuple[int, dict]:
    conn = common.HttpConnection(port, key)
    try:
        status, data = await conn.request("GET", f"/api/v1/reviews/{external_id}/")
        return status, json.loads(data)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10.0, help="reviews posted per second")
    parser.add_argument("--batch", type=int, default=1, help="reviews per request")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--wait", type=float, default=60.0,
                        help="how long to wait for verdicts after the last post")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--establishments", type=int, default=500)
    parser.add_argument("--reviewers", type=int, default=10_000)
    parser.add_argument("--seed-reviews", type=int, default=20_000)
    common.add_run_arguments(parser, database="reviewguard_bench_verdict")
    args = parser.parse_args()
    common.dump(run(args), args.json)


if __name__ == "__main__":
    main()
