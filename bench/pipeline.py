"""Scoring drain against ingest (issue 14): does the worker keep up with the API?

    .venv/bin/python -m bench.pipeline --json --history 100000 --new 20000 --mixed --single

PostgreSQL + Redis, everything started here and stopped at the end:

1. History: a throw-away database loaded by COPY with ``bench/detect_load.py``
   (``--history`` reviews, already published); new reviews go to the first
   partner's 200 most-reviewed establishments, written now, by new reviewers.
2. Ingest: ``--new`` reviews through ``POST /api/v1/reviews/`` (lists of
   ``--batch``, ``--clients`` concurrent clients, gunicorn as the product runs it:
   reviewguard/gunicorn.conf.py, ``--web-workers`` overriding its processes)
   with NO Celery worker running: ``ingest_per_s`` = reviews created / seconds.
   Their scoring messages wait in the broker.
3. Drain: ``--workers`` Celery worker processes start, each at the ``make run``
   concurrency (-c 2; ``--beat`` adds beat to the first, as ``make run`` does);
   the pending count is read by SQL every second until none is left (bounded
   by ``--drain-timeout``). ``drain_per_s`` = reviews scored / seconds from
   the workers' start (their boot included) to the last pending one; the
   steady rate (first sample to last) is printed beside it.
4. ``--mixed``: workers running, reviews offered at ``--mixed-rate`` per second
   (lists of 50, on a fixed schedule: open loop) for ``--mixed-duration`` s.
   Backlog sampled every second, in reviews and in seconds of work (pending /
   the drain rate of step 3, or ``--drain-rate``); the worker's CPU per review
   scored (steps 3 and 4, from /proc: less noisy than the wall-clock rates on a
   shared machine); verdict latency of every review of the phase =
   ``scored_at - received_at`` from SQL (the server's clock at insert to the
   worker's verdict), once all are decided or ``--mixed-wait`` s after the
   last post (undecided ones counted apart).
5. ``--single``: workers running (anything still pending from step 4 is first
   marked scored, so they score only this phase's reviews), one review per POST at ``--single-rate`` per
   second, open loop (latency from each request's scheduled send time), after
   a warm-up; server CPU per request = CPU time (user+system, /proc) of the
   gunicorn master and workers over the phase / requests answered; verdict
   latency of these reviews as in step 4 (light load: small batches).

The backlog over time (steps 3 and 4) is plotted to ``--plot``. ``--new 0``
skips steps 2 and 3 (e.g. ``--new 0 --single`` for the single-POST figures).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from pathlib import Path

from bench import common, detect_load
from bench.ingest import post_batches
from bench.latency import drive
from bench.verdict import post_steadily

MIXED_BATCH = 50


class BacklogSampler(common.SamplingThread):
    """Pending reviews (SQL count) every ``interval`` s in a thread: (seconds, pending)."""

    def __init__(self, database: str, interval: float = 1.0) -> None:
        super().__init__(interval)
        self.database = database
        self.samples: list[tuple[float, int]] = []
        self.started = time.perf_counter()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(common.PG_URL.format(name=self.database)) as pg:
            while not self._stop.is_set():
                self.samples.append((time.perf_counter() - self.started, common.count_pending(pg)))
                self._stop.wait(self.interval)

    def wait_empty(self, timeout: float) -> bool:
        """Block until a sample shows no pending review (True) or ``timeout`` s pass."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.samples and self.samples[-1][1] == 0:
                return True
            time.sleep(self.interval / 2)
        return False


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def drain_rates(samples: list[tuple[float, int]], initial: int) -> dict:
    """Drain figures from the backlog samples of step 3 (t = 0 at the workers' spawn)."""
    last_t, left = samples[-1]
    done_t = next((t for t, n in samples if n == 0), last_t)
    # The last sample before the first review was scored: the workers' boot ends there.
    boot_t = max((t for t, n in samples if n >= initial), default=0.0)
    scored = initial - left
    return {
        "pending_at_start": initial, "still_pending": left,
        "drain_s": round(done_t, 1), "worker_boot_s": round(boot_t, 1),
        "drain_per_s": round(scored / max(done_t, 1e-9), 1),
        "drain_per_s_after_boot": round(scored / max(done_t - boot_t, 1e-9), 1),
    }


def mixed_latency(pg, prefix: str) -> dict:
    with pg.cursor() as cur:
        cur.execute(
            "SELECT extract(epoch FROM scored_at - received_at) FROM reviews_review "
            "WHERE external_id LIKE %s", (prefix + "-%",))
        rows = [r[0] for r in cur.fetchall()]
    pg.commit()
    decided = [float(x) for x in rows if x is not None]
    return {"reviews": len(rows), "undecided": len(rows) - len(decided),
            "verdict_latency_s": {k: round(v, 3) for k, v in
                                  common.percentiles(decided, (50, 95, 99)).items()}}


def plot(path: Path, phases: dict[str, list[tuple[float, int]]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(phases), figsize=(6 * len(phases), 4), squeeze=False)
    for ax, (name, samples) in zip(axes[0], phases.items(), strict=True):
        ax.plot([t for t, _ in samples], [n for _, n in samples])
        ax.set_title(name)
        ax.set_xlabel("seconds")
        ax.set_ylabel("pending reviews")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(args: argparse.Namespace) -> dict:
    import psycopg

    db = args.database
    out_dir = Path(args.out)
    common.drop_database(db)
    common.reset_broker_state()
    started = time.perf_counter()
    detect_load.load(common.PG_URL.format(name=db), args.history, args.seed, log=_say)
    load_s = time.perf_counter() - started
    partner_id, key = common.history_partner_key(db, "bench-pipeline")
    pg = psycopg.connect(common.PG_URL.format(name=db))
    establishments = [{"external_id": ext} for ext, _ in
                      common.busiest_establishments(pg, partner_id, args.establishments)]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def new_reviews(n: int, prefix: str, seed: int) -> list[dict]:
        reviewers = common.make_reviewers(max(1, n // 5), prefix=f"pu{prefix}", seed=seed)
        return common.make_reviews(n, establishments, reviewers, prefix=prefix, seed=seed,
                                   now=now, spread_days=0)

    items = new_reviews(args.new, "new", 71)
    bodies = [json.dumps(items[i:i + args.batch]).encode() for i in range(0, len(items), args.batch)]
    server = common.ServerConfig(workers=args.web_workers)
    result: dict = {
        "benchmark": "scoring drain vs ingest (issue 14)",
        "history_reviews": args.history, "history_load_s": round(load_s, 1), "new": args.new,
        "batch": args.batch, "clients": args.clients, "server": server.describe(),
        "celery": f"{args.workers} x celery worker -c {common.SERVE_CONCURRENCY}"
                  + (" (+beat)" if args.beat else ""),
        "establishments": len(establishments), "load_avg_start": common.load_average(),
    }
    phases: dict[str, list[tuple[float, int]]] = {}
    with common.gunicorn(db, server, out_dir / "gunicorn-pipeline.log") as port:
        if bodies:
            ingest = asyncio.run(post_batches(port, key, bodies, args.clients,
                                              args.ingest_timeout))
            result["ingest"] = {**ingest, "seconds": round(ingest["seconds"], 2)}
            result["ingest_per_s"] = round(ingest["created"] / ingest["seconds"], 1)
            _say(f"ingested {ingest['created']:,} at {result['ingest_per_s']}/s; draining")
        initial = common.count_pending(pg)

        with BacklogSampler(db) as backlog, common.celery_worker(
                db, out_dir / "celery-pipeline.log", instances=args.workers,
                beat=args.beat) as worker:
            rate = args.drain_rate
            if bodies:
                backlog.wait_empty(args.drain_timeout)
                drain = drain_rates(backlog.samples, initial)
                # Every process of the worker started with this phase: their CPU so far
                # is the drain's (boot included), less noisy than its wall time.
                drain["worker_cpu_ms_per_review"] = round(
                    1000 * common.cpu_seconds(common.process_tree(worker.pid)) / max(initial, 1),
                    2)
                phases["drain"] = list(backlog.samples)
                result["drain"] = drain
                result["drain_per_s"] = rate = drain["drain_per_s"]
                result["drain_vs_ingest"] = round(rate / result["ingest_per_s"], 3)
                _say(f"drain {drain}")
                result["goals"] = {"drain >= 1000/s": rate >= 1000,
                                   "drain >= 25% of ingest": result["drain_vs_ingest"] >= 0.25}
            if args.mixed:
                result["mixed"] = mixed_phase(args, db, port, key, max(rate, 1e-9), new_reviews,
                                              pg, phases, worker.pid)
            if args.single:
                # A backlog left by the mixed phase is not this phase's load: the worker
                # is running, but only for the single reviews.
                result["pending_marked_scored_before_single"] = common.mark_history_scored(pg)
                result["single"] = single_phase(args, port, key, new_reviews, worker.pid, pg)
    result["scoring_messages_purged"] = common.purge_queue()
    pg.close()
    result.setdefault("goals", {})
    if args.mixed:
        mixed = result["mixed"]
        result["goals"]["mixed backlog < 5 s of work"] = mixed["backlog_max_s_of_work"] < 5
        result["goals"]["mixed verdict p95 <= 2 s"] = (
            mixed["undecided"] == 0 and mixed["verdict_latency_s"].get("p95", 1e9) <= 2)
    if args.single:
        single = result["single"]
        result["goals"]["single p50 <= 10 ms"] = single["latency_ms"].get("p50", 1e9) <= 10
        result["goals"]["single p99 <= 50 ms"] = single["latency_ms"].get("p99", 1e9) <= 50
        result["goals"]["single <= 4 ms gunicorn CPU"] = single["cpu_ms_per_request_gunicorn"] <= 4
    if args.plot and phases:
        plot(Path(args.plot), phases,
             f"history {args.history:,}, {args.new:,} new, {result['celery']}")
        result["plot"] = str(args.plot)
    result["load_avg_end"] = common.load_average()
    result["run_s"] = round(time.perf_counter() - started, 1)
    if not args.keep_database:
        common.drop_database(db)
    return result


def mixed_phase(args, db: str, port: int, key: str, drain_rate: float, new_reviews, pg,
                phases: dict, worker_pid: int) -> dict:
    n = int(args.mixed_rate * args.mixed_duration) + MIXED_BATCH
    items = new_reviews(n, "mix", 72)
    with BacklogSampler(db) as backlog, \
            common.TreeCpuMeter(worker_pid) as worker_cpu:
        sent = asyncio.run(post_steadily(port, key, items, rate=args.mixed_rate, clients=4,
                                         duration=args.mixed_duration, batch=MIXED_BATCH))
        posted_at = time.perf_counter() - backlog.started
        backlog.wait_empty(args.mixed_wait)
    phases["mixed"] = list(backlog.samples)
    during = [p for t, p in backlog.samples if t <= posted_at] or [0]
    latency = mixed_latency(pg, "mix")
    _say(f"mixed: backlog max {max(during)}, latency {latency}")
    return {
        "offered_per_s": args.mixed_rate, "duration_s": args.mixed_duration,
        "posted": len(sent["sent_at"]), "post_statuses": sent["statuses"],
        "backlog_max_reviews": max(during),
        "backlog_end_of_posting_reviews": during[-1],
        "backlog_max_s_of_work": round(max(during) / drain_rate, 1),
        "backlog_rule": "pending reviews / drain_per_s of the drain phase",
        **latency,
        # CPU of the worker's processes from the first post to the last verdict.
        "worker_cpu_ms_per_review": round(1000 * worker_cpu.seconds / max(latency["reviews"], 1), 2),
    }


def _wait_decided(pg, timeout: float) -> None:
    """Until no review is pending (at most ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while common.count_pending(pg) and time.monotonic() < deadline:
        time.sleep(0.5)


def single_phase(args, port: int, key: str, new_reviews, worker_pid: int, pg) -> dict:
    common.clear_throttle_cache()
    n = int(args.single_rate * (args.single_duration + 3)) + 10
    bodies = [json.dumps(item).encode() for item in new_reviews(n, "one", 73)]
    with common.CpuMeter(common.gunicorn_pids(port)) as cpu, \
            common.TreeCpuMeter(worker_pid) as worker_cpu:
        started = time.perf_counter()
        measured = asyncio.run(drive(port, key, bodies, clients=8, duration=args.single_duration,
                                     rate=args.single_rate, warmup=3, grace=10))
        seconds = time.perf_counter() - started
    answered = sum(measured["statuses"].values()) + measured.pop("warmup_requests")
    # Light load: small batches, so this is where a batch's fixed cost shows.
    # Whatever was pending before this phase was marked scored: only its reviews wait.
    _wait_decided(pg, timeout=60.0)
    verdicts = mixed_latency(pg, "one")
    return {"offered_per_s": args.single_rate, **measured,
            "verdict_latency_s": verdicts["verdict_latency_s"],
            "undecided": verdicts["undecided"],
            "cpu_ms_per_request_gunicorn": round(1000 * cpu.web / max(answered, 1), 2),
            "cpu_rule": "user+system CPU of the gunicorn master and workers (/proc) over the "
                        "phase, warm-up included, / requests answered",
            # Beside the web server on the same cores: what scoring these reviews costs.
            "cpu_ms_per_request_first_celery_worker": round(
                1000 * worker_cpu.seconds / max(answered, 1), 2),
            "cpu_cores_busy": {"gunicorn": round(cpu.web / seconds, 2),
                               "first_celery_worker": round(worker_cpu.seconds / seconds, 2)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1,
                        help="Celery worker processes, each at make run's concurrency")
    parser.add_argument("--beat", action="store_true", help="beat in the first worker")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=None,
                        help="gunicorn processes (default: the product's, "
                             "reviewguard/gunicorn.conf.py)")
    parser.add_argument("--establishments", type=int, default=200)
    parser.add_argument("--ingest-timeout", type=float, default=600.0)
    parser.add_argument("--drain-rate", type=float, default=0.0,
                        help="with --new 0: the drain rate (reviews/s) measured by an earlier "
                             "run, to express --mixed backlogs in seconds of work")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--mixed", action="store_true")
    parser.add_argument("--mixed-rate", type=float, default=500.0)
    parser.add_argument("--mixed-duration", type=float, default=120.0)
    parser.add_argument("--mixed-wait", type=float, default=120.0)
    parser.add_argument("--single", action="store_true")
    parser.add_argument("--single-rate", type=float, default=100.0)
    parser.add_argument("--single-duration", type=float, default=30.0)
    parser.add_argument("--plot", default=str(common.ROOT / "bench" / "pipeline-backlog.png"),
                        help="PNG of the backlog over time ('' for none)")
    parser.add_argument("--seed", type=int, default=6, help="detect_load's seed")
    common.add_run_arguments(parser, database="rg_bench_pipeline")
    args = parser.parse_args(argv)
    common.dump(run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
