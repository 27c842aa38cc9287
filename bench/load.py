"""Bounded mixed load through the real stack (issue 11, "Load").

    .venv/bin/python -m bench.load --json --duration 180 --plot bench/load-backlog.png

Loopback only (127.0.0.1). Everything is started here and stopped at the end,
by its own pid: gunicorn with the product's settings (reviewguard/gunicorn.conf.py,
as ``make run``: 2 processes of 4 threads; ``--web-workers`` and ``--web-threads``
override them) and one Celery
worker at ``make run``'s concurrency (-c 2, with beat: the pending sweep runs
as in production), on PostgreSQL (a throw-away database, ``--database``) and
Redis (``CELERY_BROKER_URL`` and ``CACHE_URL`` when they name Redis, else
bench/common.py's defaults).

1. History: ``--history`` reviews loaded by COPY (``bench/detect_load.py``),
   then ``manage.py detect`` once so that the partner has cases to read.
2. Idle: each request kind alone, one request at a time, nothing else
   running (``--idle-requests`` each, after a few untimed warm-up requests):
   the reference latency.
3. Load: every kind at once, each on its own schedule (open loop: latency
   counts from the scheduled send time, so a server falling behind is not
   hidden), for ``--duration`` s; arrivals are independent (Poisson, seeded) at
   each kind's rate, or every 1 / rate s with ``--arrivals fixed``. The pending-review backlog is read by
   SQL every second from the start of the load until it is empty again (or
   ``--drain-timeout`` s after the load stops).

Request kinds and their default rates (per second):

- ``bulk_ingest``: ``POST /api/v1/reviews/`` with a list of ``--bulk-size``
  (100) new reviews, 1/s; expected 200 (with the single posts: 102 reviews/s).
- ``single_review``: ``POST /api/v1/reviews/`` with one new review, 2/s; 201.
- ``review_list``: ``GET /api/v1/reviews/?page_size=50``, 2/s; 200.
- ``review_detail``: ``GET /api/v1/reviews/{external_id}/`` of a random
  stored review, 5/s; 200.
- ``case_list``: ``GET /api/v1/cases/?page_size=50``, 1/s; 200.
- ``case_detail``: ``GET /api/v1/cases/{id}/`` of one of the partner's cases, 1/s; 200.
- ``threat_report``: ``POST /api/v1/threat-reports/`` (JSON, a new report), 0.2/s; 201.

Any other status (a 4xx the kind does not expect, any 5xx, a dropped
connection) is an error. Verdicts: no errors; nothing pending once the load
has stopped (within the drain bound); each kind's p99 under load within 5x
its idle p99.

``--trace`` also writes, to ``--out``: each load request's scheduled, sent
and answered times (load-trace.jsonl), the gunicorn access log with the worker
pid and the server-side duration of each (joined by the X-Bench-Request id),
and PostgreSQL's active backends every 50 ms (load-pgwaits.jsonl): where a
slow request spent its time (client, listen queue, worker, lock wait).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import common, detect_load
from bench.pipeline import BacklogSampler

EXPECTED = {
    "bulk_ingest": {200},
    "single_review": {201},
    "review_list": {200},
    "review_detail": {200},
    "case_list": {200},
    "case_detail": {200},
    "threat_report": {201},
}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Kind:
    name: str
    rate: float
    make: object  # () -> (method, path, body or None)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def record(self, status: int | str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items()
                   if not (s.isdigit() and int(s) in EXPECTED[self.name]))


class Traffic:
    """What each request kind sends: new reviews and reports, existing ids to read."""

    def __init__(self, *, establishments: list[str], review_ids: list[str], case_ids: list[int],
                 bulk_size: int, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        self.establishments = [{"external_id": e} for e in establishments]
        self.review_ids = review_ids
        self.case_ids = case_ids
        self.bulk_size = bulk_size
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.serial = 0

    def _reviews(self, n: int) -> list[dict]:
        self.serial += 1
        tag = f"ld{self.serial}"
        reviewers = common.make_reviewers(max(1, n // 3), prefix=f"lu{tag}", seed=self.serial)
        return common.make_reviews(n, self.establishments, reviewers, prefix=tag,
                                   seed=self.serial, now=self.now, spread_days=0)

    def bulk_ingest(self):
        return "POST", "/api/v1/reviews/", json.dumps(self._reviews(self.bulk_size)).encode()

    def single_review(self):
        return "POST", "/api/v1/reviews/", json.dumps(self._reviews(1)[0]).encode()

    def review_list(self):
        return "GET", "/api/v1/reviews/?page_size=50", None

    def review_detail(self):
        return "GET", f"/api/v1/reviews/{self.rng.choice(self.review_ids)}/", None

    def case_list(self):
        return "GET", "/api/v1/cases/?page_size=50", None

    def case_detail(self):
        return "GET", f"/api/v1/cases/{self.rng.choice(self.case_ids)}/", None

    def threat_report(self):
        self.serial += 1
        body = {
            "establishment": self.rng.choice(self.establishments)["external_id"],
            "guest": {"name": f"Guest {self.serial} {self.rng.choice('ABCDEFGH')}.",
                      "email": f"guest{self.serial}@example.org"},
            "channel": "email",
            "message_text": f"Refund my stay or I will post a 1-star review (ref {self.serial}).",
            "demand": "refund",
            "received_at": (self.now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return "POST", "/api/v1/threat-reports/", json.dumps(body).encode()


class Trace:
    """Every timed request of the load phase (``--trace``): its kind, when it was
    scheduled, when the client began sending it and when the answer was read
    (seconds since ``origin``), its status; the id it carries in X-Bench-Request
    joins it to the gunicorn access log (worker pid, server-side duration)."""

    def __init__(self) -> None:
        self.origin = time.perf_counter()
        self.origin_unix = time.time()
        self.records: list[dict] = []

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in self.records))


async def _send(port: int, key: str, kind: Kind, scheduled: float, request,
                trace: Trace | None = None) -> None:
    method, path, body = request
    began = time.perf_counter()
    seq = len(trace.records) + 1 if trace is not None else 0
    if trace is not None:
        trace.records.append(None)  # reserves ``seq``
    conn = common.HttpConnection(port, key)
    try:
        status, _ = await asyncio.wait_for(
            conn.request(method, path, body,
                         {"X-Bench-Request": str(seq)} if trace is not None else None),
            timeout=120)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        status = type(exc).__name__
    finally:
        await conn.close()
    done = time.perf_counter()
    kind.record(status, done - scheduled)
    if trace is not None:
        trace.records[seq - 1] = {
            "seq": seq, "kind": kind.name, "status": status,
            "scheduled": round(scheduled - trace.origin, 4),
            "began": round(began - trace.origin, 4), "done": round(done - trace.origin, 4)}


async def idle_phase(port: int, key: str, kinds: list[Kind], n: int, warmup: int = 3) -> None:
    """One kind at a time, one request at a time: the reference latencies."""
    for kind in kinds:
        for i in range(warmup + n):
            request = kind.make()
            if i < warmup:
                conn = common.HttpConnection(port, key)
                try:
                    await conn.request(*request)
                finally:
                    await conn.close()
                continue
            await _send(port, key, kind, time.perf_counter(), request)


async def load_phase(port: int, key: str, kinds: list[Kind], duration: float,
                     trace: Trace | None = None, arrivals: str = "poisson") -> float:
    """Every kind on its own schedule (open loop); returns when all are answered.

    ``poisson``: each kind's requests arrive independently, at exponentially
    distributed intervals of mean 1 / rate (seeded), as requests from many
    clients do. ``fixed``: every 1 / rate s from a random phase; kinds whose
    periods are multiples of each other then stay phase-locked (at 1 and 0.2
    per second every threat report was sent 28 ms after a bulk post, so its
    p99 measured only that overlap)."""
    start = time.perf_counter() + 0.5
    end = start + duration
    pending: set[asyncio.Task] = set()

    async def schedule(kind: Kind, rng: random.Random) -> None:
        k = 0
        scheduled = start + rng.random() / kind.rate
        while True:
            if k:
                scheduled += (rng.expovariate(kind.rate) if arrivals == "poisson"
                              else 1 / kind.rate)
            k += 1
            if scheduled >= end:
                return
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            # Built before sending: payload generation is client time, not server time.
            task = asyncio.create_task(_send(port, key, kind, scheduled, kind.make(), trace))
            pending.add(task)
            task.add_done_callback(pending.discard)

    await asyncio.gather(*(schedule(kind, random.Random(9 + i)) for i, kind in enumerate(kinds)))
    while pending:
        await asyncio.gather(*list(pending))
    return time.perf_counter() - start


class PgWaits(common.SamplingThread):
    """With ``--trace``: every active backend of the database every ``interval`` s
    (time since ``origin``, pid, wait event, transaction age, query head)."""

    def __init__(self, database: str, origin: float, interval: float = 0.05) -> None:
        super().__init__(interval)
        self.database = database
        self.origin = origin
        self.rows: list[list] = []

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(common.PG_URL.format(name=self.database), autocommit=True) as conn:
            while not self._stop.is_set():
                t = round(time.perf_counter() - self.origin, 3)
                for row in conn.execute(
                        "SELECT pid, state, wait_event_type, wait_event, "
                        "extract(epoch FROM now() - xact_start)::float, left(query, 100) "
                        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                        "AND state <> 'idle'", (self.database,)).fetchall():
                    self.rows.append([t, *row])
                self._stop.wait(self.interval)

    def write(self, path: Path) -> None:
        path.write_text("".join(json.dumps(r) + "\n" for r in self.rows))


def summary(kind: Kind, seconds: float | None) -> dict:
    out = {"requests": len(kind.latencies), "statuses": kind.statuses, "errors": kind.errors,
           "error_rate": round(kind.errors / max(len(kind.latencies), 1), 4),
           "latency_ms": common.ms(common.percentiles(kind.latencies, (50, 95, 99)))}
    if seconds:
        out["offered_per_s"] = kind.rate
        out["throughput_per_s"] = round(len(kind.latencies) / seconds, 2)
    return out


def plot(path: Path, samples: list[tuple[float, int]], load_s: float, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot([t for t, _ in samples], [n for _, n in samples], label="pending reviews")
    ax.axvspan(0, load_s, alpha=0.12, color="tab:orange", label="load running")
    ax.set_xlabel("seconds since the load started")
    ax.set_ylabel("pending reviews")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _partner_data(pg, partner_id: int, n_establishments: int) -> tuple[list[str], list[str],
                                                                          list[int]]:
    establishments = [ext for ext, _ in
                      common.busiest_establishments(pg, partner_id, n_establishments)]
    with pg.cursor() as cur:
        cur.execute("SELECT external_id FROM reviews_review WHERE partner_id = %s "
                    "ORDER BY random() LIMIT 2000", (partner_id,))
        review_ids = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT case_id FROM cases_case_partners WHERE partner_id = %s "
                    "ORDER BY case_id", (partner_id,))
        case_ids = [r[0] for r in cur.fetchall()]
    pg.commit()
    return establishments, review_ids, case_ids


def _busiest_partner_key(database: str, pg) -> tuple[int, str]:
    """The history's partner with the most cases (the first one when none has any)
    and a new API key for it, issued through the partners' service."""
    with pg.cursor() as cur:
        cur.execute("SELECT p.id FROM partners_partner p LEFT JOIN cases_case_partners c "
                    "ON c.partner_id = p.id GROUP BY p.id ORDER BY count(c.id) DESC, p.id LIMIT 1")
        partner_id = cur.fetchone()[0]
    pg.commit()
    out = common.manage(database, "shell", "-c",
                        "from apps.partners.models import Partner\n"
                        "from apps.partners.services import api_key_issue\n"
                        f"print(api_key_issue(partner=Partner.objects.get(pk={partner_id}), "
                        "label='bench-load'))")
    return partner_id, out.split()[-1]


def _revision() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=common.ROOT,
                         capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "apps", "reviewguard", "ml"],
                           cwd=common.ROOT, capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + (" (+ uncommitted changes)" if dirty else "")


def run(args: argparse.Namespace) -> dict:
    import psycopg

    db = args.database
    out_dir = Path(args.out)
    common.drop_database(db)
    common.reset_broker_state()
    started = time.perf_counter()
    result: dict = {"benchmark": "bounded mixed load (issue 11)", "revision": _revision(),
                    "history_reviews": args.history, "load_avg_start": common.load_average()}
    detect_load.load(common.PG_URL.format(name=db), args.history, args.seed, log=_say)
    t0 = time.perf_counter()
    common.manage(db, "detect")
    result["history_detect_s"] = round(time.perf_counter() - t0, 1)
    pg = psycopg.connect(common.PG_URL.format(name=db))
    partner_id, key = _busiest_partner_key(db, pg)
    result["history_pending_marked_scored"] = common.mark_history_scored(pg)
    establishments, review_ids, case_ids = _partner_data(pg, partner_id, args.establishments)
    if not case_ids:
        raise RuntimeError("the history has no case for the partner: nothing for case_detail")
    traffic = Traffic(establishments=establishments, review_ids=review_ids, case_ids=case_ids,
                      bulk_size=args.bulk_size)
    rates = {"bulk_ingest": args.bulk_rate, "single_review": args.single_rate,
             "review_list": args.list_rate, "review_detail": args.detail_rate,
             "case_list": args.case_list_rate, "case_detail": args.case_detail_rate,
             "threat_report": args.report_rate}
    server = common.ServerConfig(
        workers=args.web_workers, threads=args.web_threads,
        access_log=out_dir / "gunicorn-load-access.log" if args.trace else None)
    if server.access_log is not None:
        server.access_log.unlink(missing_ok=True)
    result.update({
        "server": server.describe(),
        "celery": f"1 x celery worker -c {common.SERVE_CONCURRENCY} (+beat)",
        "partner_cases": len(case_ids), "establishments": len(establishments),
        "offered_reviews_per_s": args.bulk_rate * args.bulk_size + args.single_rate,
        "duration_s": args.duration, "arrivals": args.arrivals,
    })
    with common.gunicorn(db, server, out_dir / "gunicorn-load.log") as port, \
            common.celery_worker(db, out_dir / "celery-load.log", beat=True):
        common.clear_throttle_cache()
        idle = [Kind(name, rate, getattr(traffic, name)) for name, rate in rates.items()]
        _say("idle phase")
        asyncio.run(idle_phase(port, key, idle, args.idle_requests))
        # Let the idle phase's reviews be scored: the load starts from an empty backlog.
        with BacklogSampler(db) as settle:
            result["idle_backlog_drained"] = settle.wait_empty(args.drain_timeout)
        result["idle"] = {k.name: summary(k, None) for k in idle}
        result["load_avg_before_load"] = common.load_average()

        kinds = [Kind(name, rate, getattr(traffic, name)) for name, rate in rates.items()]
        _say(f"load phase: {args.duration:.0f} s")
        trace = Trace() if args.trace else None
        waits = PgWaits(db, trace.origin) if trace else contextlib.nullcontext()
        with BacklogSampler(db) as backlog, common.CpuMeter(common.gunicorn_pids(port)) as cpu, \
                waits:
            load_s = asyncio.run(load_phase(port, key, kinds, args.duration, trace,
                                            args.arrivals))
            if trace is not None:
                waits.__exit__(None, None, None)
            result["load_avg_end_of_load"] = common.load_average()
            stopped = time.perf_counter() - backlog.started
            at_stop = backlog.samples[-1][1] if backlog.samples else None
            drained = backlog.wait_empty(args.drain_timeout)
            empty_at = next((t for t, n in backlog.samples if t >= stopped and n == 0), None)
        if trace is not None:
            trace.write(out_dir / "load-trace.jsonl")
            waits.write(out_dir / "load-pgwaits.jsonl")
            result["trace"] = {"requests": str(out_dir / "load-trace.jsonl"),
                               "access_log": str(server.access_log),
                               "pg_waits": str(out_dir / "load-pgwaits.jsonl"),
                               "origin_unix": round(trace.origin_unix, 4)}
        samples = [(round(t, 2), n) for t, n in backlog.samples]
        result["load"] = {k.name: summary(k, load_s) for k in kinds}
        result["load_wall_s"] = round(load_s, 1)
        result["gunicorn_cpu_s"] = round(cpu.web, 1)
        result["backlog"] = {
            "max_pending": max((n for _, n in samples), default=0),
            "pending_when_load_stopped": at_stop,
            "drained_after_load": drained,
            "seconds_from_load_stop_to_empty": round(empty_at - stopped, 1)
            if empty_at is not None else None,
            "drain_timeout_s": args.drain_timeout,
            "samples": samples,
        }
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM reviews_review WHERE status = 'pending'")
        result["pending_at_end"] = cur.fetchone()[0]
        # The reviews this run sent (idle and load phases): verdicts and their latency.
        cur.execute("SELECT status, count(*) FROM reviews_review WHERE external_id LIKE 'ld%%' "
                    "GROUP BY status ORDER BY status")
        result["sent_reviews_by_status"] = dict(cur.fetchall())
        cur.execute("SELECT extract(epoch FROM scored_at - received_at) FROM reviews_review "
                    "WHERE external_id LIKE 'ld%%' AND scored_at IS NOT NULL")
        latencies = [float(r[0]) for r in cur.fetchall()]
        result["verdict_latency_s"] = {k: round(v, 2) for k, v in
                                       common.percentiles(latencies, (50, 95, 99)).items()}
    pg.commit()
    pg.close()
    result["scoring_messages_purged"] = common.purge_queue()

    goals = {"no errors": all(k.errors == 0 for k in kinds),
             "nothing pending after the load": result["backlog"]["drained_after_load"]}
    for k in kinds:
        idle_p99 = result["idle"][k.name]["latency_ms"].get("p99")
        load_p99 = result["load"][k.name]["latency_ms"].get("p99")
        ratio = round(load_p99 / idle_p99, 2) if idle_p99 and load_p99 else None
        result["load"][k.name]["p99_vs_idle_p99"] = ratio
        goals[f"{k.name} p99 <= 5x idle"] = ratio is not None and ratio <= 5
    result["goals"] = goals
    if args.plot:
        plot(Path(args.plot), samples, load_s,
             f"pending reviews: {result['offered_reviews_per_s']:.0f} reviews/s offered "
             f"for {args.duration:.0f} s, history {args.history:,}, {result['celery']}")
        result["plot"] = str(args.plot)
    result["load_avg_end"] = common.load_average()
    result["run_s"] = round(time.perf_counter() - started, 1)
    if not args.keep_database:
        common.drop_database(db)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of mixed load")
    parser.add_argument("--history", type=int, default=50_000)
    parser.add_argument("--establishments", type=int, default=200,
                        help="new reviews and reports go to the partner's busiest ones")
    parser.add_argument("--web-workers", type=int, default=None,
                        help="gunicorn processes (default: the product's, "
                             "reviewguard/gunicorn.conf.py)")
    parser.add_argument("--web-threads", type=int, default=None,
                        help="threads per gunicorn process (1: sync workers; default: the "
                             "product's)")
    parser.add_argument("--bulk-size", type=int, default=100)
    parser.add_argument("--bulk-rate", type=float, default=1.0)
    parser.add_argument("--single-rate", type=float, default=2.0)
    parser.add_argument("--list-rate", type=float, default=2.0)
    parser.add_argument("--detail-rate", type=float, default=5.0)
    parser.add_argument("--case-list-rate", type=float, default=1.0)
    parser.add_argument("--case-detail-rate", type=float, default=1.0)
    parser.add_argument("--report-rate", type=float, default=0.2)
    parser.add_argument("--arrivals", choices=("poisson", "fixed"), default="poisson",
                        help="independent arrivals at each rate (default), or a fixed period")
    parser.add_argument("--idle-requests", type=int, default=200,
                        help="per kind (200: a p99 that is not just the slowest one)")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--plot", default="", help="PNG of the backlog over time")
    parser.add_argument("--seed", type=int, default=6, help="detect_load's seed")
    parser.add_argument("--trace", action="store_true",
                        help="also write each load request's timings, the gunicorn access log "
                             "(pid, duration) and PostgreSQL's active backends (--out)")
    common.add_run_arguments(parser, database="rg_bench_load")
    args = parser.parse_args(argv)
    common.dump(run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
