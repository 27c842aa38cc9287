"""Single-review POST latency at 50 concurrent clients (issue 3, benchmark 2).

    .venv/bin/python -m bench.latency --clients 50 --duration 30 --mode both

Each request is ``POST /api/v1/reviews/`` with one new review (answered 201
with the stored review). Two ways to load the server, both bounded in time and
in request count:

- ``closed``: 50 clients, each sends its next request as soon as it has the
  answer. This finds the throughput ceiling; by Little's law the latency is
  then clients / throughput, whatever the per-request cost.
- ``open``: the same 50 clients send at a fixed total rate (``--rate``), each on
  its own schedule. Latency is counted from the scheduled send time, so a
  server falling behind is not hidden (no coordinated omission).

No Celery worker runs: scoring tasks go to our own Redis queue, purged at the
end. ``--profile`` samples the gunicorn workers with py-spy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from pathlib import Path

from bench import common

PROFILE_BUCKETS = {
    "DRF parse + validate": r"JSONParser\.parse |validate_one_or_many ",
    "authentication (API key query)": r"perform_authentication ",
    "throttle (cache get/set of the history)": r"check_throttles ",
    "reviews_ingest (all)": r"reviews_ingest ",
    "  reviewers upsert": r"_upsert_reviewers ",
    "  commit": r"Atomic\.__exit__ [^;]*;(?:[^;]*;)*[^;]*commit ",
    "enqueue_scoring (Celery publish to Redis)": r"enqueue_scoring ",
    "response: re-read review + cases (2 queries)": r"ReviewViewSet\.create [^;]*;[^;]*QuerySet\.get ",
    "response: serializer": r"ReviewSerializer|Serializer\.data ",
    "middleware + Django request overhead": r"(?:SessionMiddleware|LocaleMiddleware|CsrfViewMiddleware|AuthenticationMiddleware|MessageMiddleware|SecurityMiddleware|WhiteNoiseMiddleware|CommonMiddleware|XFrameOptionsMiddleware)\.process_",
    "waiting on PostgreSQL (psycopg wait)": r"Connection\.wait ",
    "waiting on Redis (socket)": r"redis/connection\.py|redis/_parsers",
}


async def drive(port: int, api_key: str, bodies: list[bytes], *, clients: int, duration: float,
                rate: float | None, warmup: float, grace: float) -> dict:
    """Send ``bodies`` (each used once) until ``duration`` ends or they run out."""
    queue = list(reversed(bodies))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter() + 0.2
    measure_from = start + warmup
    end = measure_from + duration
    hard_end = end + grace  # an overloaded server does not hold the run hostage
    interval = clients / rate if rate else 0.0
    last_done = [measure_from]
    abandoned = [0]
    warm = [0]

    async def client(i: int) -> None:
        conn = common.HttpConnection(port, api_key)
        k = 0
        try:
            while queue:
                scheduled = start + (i / clients + k) * interval if rate else time.perf_counter()
                k += 1
                if scheduled >= end:
                    break
                if time.perf_counter() > hard_end:
                    abandoned[0] += 1
                    continue
                now = time.perf_counter()
                if scheduled > now:
                    await asyncio.sleep(scheduled - now)
                status, _ = await conn.request("POST", "/api/v1/reviews/", queue.pop())
                done = time.perf_counter()
                if scheduled < measure_from:
                    warm[0] += 1
                else:
                    latencies.append(done - scheduled)
                    statuses[status] = statuses.get(status, 0) + 1
                    last_done[0] = max(last_done[0], done)
        finally:
            await conn.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    # Requests scheduled inside the window, over the time it took to answer them all.
    measured = max(last_done[0], end) - measure_from
    ok = statuses.get(201, 0)
    return {
        "requests": len(latencies), "statuses": statuses,
        "abandoned_after_grace": abandoned[0], "answered_in_s": round(measured, 1),
        "throughput_per_s": round(len(latencies) / measured, 1),
        "created_per_s": round(ok / measured, 1),
        "latency_ms": common.ms(common.percentiles(latencies, (50, 90, 99))),
        "ran_out_of_bodies": not queue, "warmup_requests": warm[0],
    }


def run(args: argparse.Namespace) -> dict:
    db = args.database
    out_dir = Path(args.out)
    for old in out_dir.glob("latency-profile.*.txt"):
        old.unlink()
    common.reset_database(db)
    common.reset_broker_state()
    key = common.create_partner(db, "bench-latency")
    establishments = common.make_establishments(args.establishments)
    reviewers = common.make_reviewers(args.reviewers)
    config = common.ServerConfig(workers=args.workers, threads=args.threads)
    result: dict = {
        "benchmark": "single-review POST latency (issue 3.2)",
        "server": config.describe(), "clients": args.clients,
        "duration_s": args.duration, "warmup_s": args.warmup, "cpus": os.cpu_count(),
        "runs": [],
    }
    modes = ["closed", "open"] if args.mode == "both" else [args.mode]
    with common.gunicorn(db, config, out_dir / "gunicorn-latency.log") as port:
        common.register_establishments(port, key, establishments)
        seeded = common.make_reviews(args.seed_reviews, establishments, reviewers, prefix="seed")
        for i in range(0, len(seeded), 1000):
            common.post_json_sync(port, key, "/api/v1/reviews/", seeded[i:i + 1000])
        common.purge_queue()
        serial = 0
        for mode in modes:
            rates = args.rate if mode == "open" else [None]
            for rate in rates:
                common.clear_throttle_cache()
                n = args.max_requests
                items = common.make_reviews(n, establishments, reviewers,
                                            prefix=f"lat{serial}", seed=100 + serial)
                serial += 1
                bodies = [json.dumps(item).encode() for item in items]
                load_before = common.load_average()
                profile_ctx = (
                    common.py_spy(common.gunicorn_pids(port),
                                  out_dir / f"latency-profile-{mode}{rate or ''}",
                                  int(args.duration + args.warmup + 5), idle=args.profile_idle)
                    if args.profile else contextlib.nullcontext())
                with (profile_ctx, common.CpuMeter(common.gunicorn_pids(port)) as cpu,
                      common.PgActivitySampler(db, interval=0.1) as activity):
                    measured = asyncio.run(drive(port, key, bodies, clients=args.clients,
                                                 duration=args.duration, rate=rate,
                                                 warmup=args.warmup, grace=args.grace))
                # CPU covers the warm-up too: divide by every request answered.
                answered = sum(measured["statuses"].values()) + measured.pop("warmup_requests")
                pg_cpu = activity.backend_cpu_seconds
                per_request = (cpu.web + pg_cpu) / max(answered, 1)
                run_result = {"mode": mode, "offered_rate_per_s": rate, **measured,
                              "cpu_ms_per_request_gunicorn": round(1000 * cpu.web / answered, 2),
                              "cpu_ms_per_request_postgres": round(1000 * pg_cpu / answered, 2),
                              "two_core_ceiling_per_s": round(2 / per_request),
                              "load_avg_before": load_before,
                              "load_avg_after": common.load_average()}
                lat = measured["latency_ms"]
                run_result["goals"] = {"p50 <= 10 ms": lat.get("p50", 1e9) <= 10,
                                       "p99 <= 50 ms": lat.get("p99", 1e9) <= 50}
                if args.profile:
                    files = sorted(out_dir.glob(f"latency-profile-{mode}{rate or ''}.*.txt"))
                    run_result["profile"] = common.summarise_profile(files, PROFILE_BUCKETS)
                result["runs"].append(run_result)
                print(json.dumps({k: run_result[k] for k in
                                  ("mode", "offered_rate_per_s", "throughput_per_s",
                                   "latency_ms", "statuses")}), flush=True)
    result["scoring_messages_purged"] = common.purge_queue()
    if not args.keep_database:
        common.drop_database(db)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--grace", type=float, default=15.0,
                        help="after the window, stop sending what is still scheduled")
    parser.add_argument("--mode", choices=("closed", "open", "both"), default="both")
    parser.add_argument("--rate", type=float, nargs="+", default=[100.0, 200.0],
                        help="offered requests/s for the open mode (one run each)")
    parser.add_argument("--max-requests", type=int, default=20_000,
                        help="hard cap on requests per run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--establishments", type=int, default=500)
    parser.add_argument("--reviewers", type=int, default=20_000)
    parser.add_argument("--seed-reviews", type=int, default=10_000,
                        help="reviews stored before timing, so lookups hit a real table")
    parser.add_argument("--profile", action="store_true", help="py-spy the gunicorn workers")
    parser.add_argument("--profile-idle", action="store_true",
                        help="profile wall-clock time (waits included), not only CPU")
    common.add_run_arguments(parser, database="reviewguard_bench_latency")
    args = parser.parse_args()
    common.dump(run(args), args.json)


if __name__ == "__main__":
    main()
