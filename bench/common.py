"""Shared plumbing for the speed benchmarks (issue 3): services, servers, data, HTTP client.

Everything here talks only to 127.0.0.1. Servers and workers are started as
child processes and stopped by their own pid when the benchmark ends (also on
errors), so a run never leaves anything behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}"
# Redis DBs and a queue of our own (from the environment when it names Redis,
# e.g. a worktree's .helper-env), so that nobody else's worker on the same
# Redis eats our tasks and our purge never touches anybody else's messages.


def _redis_env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value.startswith("redis://") else default


BROKER_URL = _redis_env("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
CACHE_URL = _redis_env("CACHE_URL", "redis://127.0.0.1:6379/6")
QUEUE = os.environ.get("CELERY_QUEUE", "reviewguard-bench")
HOST = "127.0.0.1"
BENCH_SECRET_KEY = "bench-only-secret-key-for-throw-away-databases-0123456789abcdef"  # noqa: S105 (throw-away databases only)
BENCH_PII_HASH_KEY = "bench-only-pii-hash-key-for-throw-away-databases-0123456789abc"


# --- environment and services ---------------------------------------------------------


def bench_env(database: str) -> dict[str, str]:
    """The process environment for manage.py, gunicorn and celery in a benchmark."""
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(
        DATABASE_URL=PG_URL.format(name=database),
        CELERY_BROKER_URL=BROKER_URL,
        CACHE_URL=CACHE_URL,
        CELERY_QUEUE=QUEUE,
        DJANGO_SETTINGS_MODULE="reviewguard.settings",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    # DEBUG is off, so the settings want keys of their own (throw-away ones here).
    env.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    env.setdefault("PII_HASH_KEY", BENCH_PII_HASH_KEY)
    return env


def setup_django(database: str) -> None:
    """Configure this process for the benchmark database (before any Django import)."""
    os.environ.update(bench_env(database))
    os.environ.pop("DEBUG", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def reset_database(name: str) -> None:
    """Drop and recreate ``name``, then migrate it."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage(name, "migrate", "--noinput", "-v0")


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(database: str, *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=bench_env(database),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def create_partner(database: str, name: str) -> str:
    """A new partner's API key (the last line of ``create_partner``)."""
    return manage(database, "create_partner", name).strip().splitlines()[-1]


def _our_queues(client) -> list[str]:
    """Our queue and the per-workload queues routed beside it (``QUEUE.scoring``,
    ``QUEUE.batch``, ...): a run's leftover messages in any of them would be
    consumed by the next run's worker."""
    return [QUEUE, *(k.decode() for k in client.scan_iter(match=f"{QUEUE}.*", count=1000))]


def purge_queue() -> int:
    """Drop our Celery queues from the Redis broker; returns how many messages they held."""
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    try:
        held = 0
        for name in _our_queues(client):
            if client.type(name) == b"list":
                held += int(client.llen(name))
                client.delete(name)
        return held
    finally:
        client.close()


def queue_length() -> int:
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    try:
        return sum(int(client.llen(name)) for name in _our_queues(client)
                   if client.type(name) == b"list")
    finally:
        client.close()


def clear_throttle_cache() -> None:
    """Forget the rate limiter's history (Redis DB of CACHE_URL) between runs."""
    import redis

    client = redis.Redis.from_url(CACHE_URL)
    try:
        for key in client.scan_iter(match="*throttle_partner_*", count=1000):
            client.delete(key)
    finally:
        client.close()


def reset_broker_state() -> None:
    """Start a run with nothing in our queue and no rate-limiter history."""
    purge_queue()
    clear_throttle_cache()


def count_pending(pg) -> int:
    """Reviews still pending in the benchmark database (``pg``: a psycopg connection)."""
    with pg.cursor() as cur:
        cur.execute("SELECT count(*) FROM reviews_review WHERE status = 'pending'")
        n = cur.fetchone()[0]
    pg.commit()
    return int(n)


def mark_history_scored(pg) -> int:
    """Mark every pending review published and scored: preloaded history is context
    for the scorer, not the worker's to score (its queued messages are purged too)."""
    with pg.cursor() as cur:
        cur.execute("UPDATE reviews_review SET status = 'published', scored_at = now(), "
                    "status_changed_at = now(), risk_score = 0.1 WHERE status = 'pending'")
        n = cur.rowcount
    pg.commit()
    purge_queue()
    return n


def busiest_establishments(pg, partner_id: int, n: int) -> list[tuple[str, int]]:
    """(external_id, reviews) of the partner's ``n`` most-reviewed establishments:
    where new reviews of a loaded history land (``pg``: a psycopg connection)."""
    with pg.cursor() as cur:
        cur.execute(
            "SELECT e.external_id, count(r.id) AS n FROM establishments_establishment e "
            "JOIN reviews_review r ON r.establishment_id = e.id WHERE e.partner_id = %s "
            "GROUP BY e.id ORDER BY n DESC, e.id LIMIT %s", (partner_id, n))
        rows = cur.fetchall()
    pg.commit()
    return rows


def history_partner_key(database: str, label: str) -> tuple[int, str]:
    """The first partner of a COPY-loaded history (bench/detect_load.py, which creates
    no API key) and a new API key for it, issued through the partners' service."""
    out = manage(database, "shell", "-c",
                 "from apps.partners.models import Partner\n"
                 "from apps.partners.services import api_key_issue\n"
                 "p = Partner.objects.order_by('id').first()\n"
                 f"print(p.id, api_key_issue(partner=p, label={label!r}))")
    partner_id, key = out.split()[-2:]
    return int(partner_id), key


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU of processes and their reaped children, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / tick


class CpuMeter:
    """CPU seconds used by our gunicorn master and workers (PgActivitySampler does PG)."""

    def __init__(self, web_pids: list[int]) -> None:
        self.web_pids = web_pids

    def __enter__(self) -> CpuMeter:
        self._web0 = cpu_seconds(self.web_pids)
        return self

    def __exit__(self, *exc) -> None:
        self.web = cpu_seconds(self.web_pids) - self._web0


class TreeCpuMeter:
    """CPU seconds used by a process and its descendants over a ``with`` block,
    those born during the block included (a Celery worker forks its pool after
    boot: a meter over the pids at the start would miss the pool's work)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _per_pid(self) -> dict[int, float]:
        return {p: cpu_seconds([p]) for p in process_tree(self.pid)}

    def __enter__(self) -> TreeCpuMeter:
        self._start = self._per_pid()
        return self

    def __exit__(self, *exc) -> None:
        end = self._per_pid()
        self.seconds = sum(end[p] - self._start.get(p, 0.0) for p in end)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- child processes ------------------------------------------------------------------


def _spawn(cmd: list[str], *, database: str, log: Path) -> subprocess.Popen:
    """Start a service process on the bench database, output appended to ``log``,
    in its own session so ``_stop`` can signal its whole group."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=bench_env(database),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen, *, grace: float = 15.0) -> None:
    """SIGTERM the child we started (its own process group), then SIGKILL if needed."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


#: The product's gunicorn settings (what ``manage.py serve`` and docs/DEPLOY.md use).
PRODUCT_GUNICORN_CONF = ROOT / "reviewguard" / "gunicorn.conf.py"


def product_web_defaults() -> dict:
    """Worker class, processes and threads of reviewguard/gunicorn.conf.py (as read
    with this environment: ``WEB_CONCURRENCY`` sets the processes)."""
    import runpy

    conf = runpy.run_path(str(PRODUCT_GUNICORN_CONF))
    return {"worker_class": conf["worker_class"], "workers": conf["workers"],
            "threads": conf["threads"]}


@dataclass
class ServerConfig:
    """gunicorn as the product runs it (reviewguard/gunicorn.conf.py: worker class,
    processes, threads, start-up hooks); ``workers`` and ``threads`` override its
    defaults when given (``threads=1``: sync workers)."""

    workers: int | None = None
    threads: int | None = None
    backlog: int = 2048
    #: Where gunicorn writes its access log (pid, X-Bench-Request, status, duration
    #: in microseconds, request line), or None for none.
    access_log: Path | None = None

    def effective(self) -> tuple[int, int, str]:
        """(processes, threads, worker class) gunicorn will run."""
        product = product_web_defaults()
        workers = self.workers if self.workers is not None else product["workers"]
        if self.threads is None:
            return workers, product["threads"], product["worker_class"]
        return workers, self.threads, "gthread" if self.threads > 1 else "sync"

    def describe(self) -> str:
        workers, threads, kind = self.effective()
        given = "" if self.workers is None and self.threads is None else ", set by the benchmark"
        return f"gunicorn -w {workers} ({kind}, threads={threads}{given})"


@contextlib.contextmanager
def gunicorn(database: str, config: ServerConfig, log: Path) -> Iterator[int]:
    """Run the API on a free loopback port with the product's settings; yields the port."""
    port = free_port()
    cmd = [
        str(BIN / "gunicorn"),
        "reviewguard.wsgi",
        "-c",
        str(PRODUCT_GUNICORN_CONF),
        "-b",
        f"{HOST}:{port}",
        "--backlog",
        str(config.backlog),
        "--timeout",
        "120",
        "--keep-alive",
        "30",
    ]
    if config.workers is not None:
        cmd += ["-w", str(config.workers)]
    if config.threads is not None:
        cmd += ["-k", "gthread" if config.threads > 1 else "sync", "--threads", str(config.threads)]
    if config.access_log is not None:
        config.access_log.parent.mkdir(parents=True, exist_ok=True)
        cmd += ["--access-logfile", str(config.access_log), "--access-logformat",
                '%(p)s %({x-bench-request}i)s %(s)s %(D)s "%(r)s"']
    proc = _spawn(cmd, database=database, log=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer /healthz in 60 s") from None
                time.sleep(0.2)
        # Warm every worker (imports, DB connection) before timing anything.
        for _ in range(4 * config.effective()[0]):
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=5):
                pass
        yield port
    finally:
        _stop(proc)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (e.g. a Celery worker and its pool processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, ()))
    return tree


def gunicorn_pids(port: int) -> list[int]:
    """Pids of the gunicorn master serving ``port`` and its workers (for py-spy)."""
    out = subprocess.run(
        ["pgrep", "-f", f"gunicorn reviewguard.wsgi .*-b {HOST}:{port}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    return [int(p) for p in out]


# `make run` (manage.py serve) starts one worker with this concurrency, and beat.
SERVE_CONCURRENCY = 2


def _celery_worker_cmd(concurrency: int, name: str, beat: Path | None) -> list[str]:
    # No -Q: the worker consumes every queue the app declares (its default queue
    # is CELERY_QUEUE, ours), so a split into scoring / batch / webhook queues
    # is served without changing the benchmarks.
    cmd = [str(BIN / "celery"), "-A", "reviewguard", "worker", "-c", str(concurrency),
           "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
           "-n", f"{name}@%h"]
    if beat is not None:
        # The schedule file of our own run, not the worktree's var/.
        cmd += ["--beat", "-s", str(beat)]
    return cmd


@contextlib.contextmanager
def celery_worker(database: str, log: Path, concurrency: int = SERVE_CONCURRENCY, *,
                  instances: int = 1, beat: bool = False) -> Iterator[subprocess.Popen]:
    """Run ``instances`` Celery workers (-c ``concurrency`` each; the first with beat
    when ``beat``); yields the first one's process."""
    procs = []
    try:
        for k in range(instances):
            schedule = log.with_name(f"{log.stem}-beat-schedule") if beat and k == 0 else None
            if schedule is not None:
                # Start from a fresh schedule. The shelve behind it may be several
                # files (.dat, .dir, .bak): a previous run's left beat believing
                # every task overdue, so reconciliation ran at once.
                for stale in schedule.parent.glob(f"{schedule.name}*"):
                    stale.unlink(missing_ok=True)
            cmd = _celery_worker_cmd(concurrency, f"bench-{os.getpid()}-{k}", schedule)
            procs.append(_spawn(cmd, database=database, log=log))
        time.sleep(4)  # boot: imports numpy/scipy/sklearn, connects to Redis
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {proc.returncode}; see {log}")
        yield procs[0]
    finally:
        for proc in procs:
            _stop(proc, grace=30)


@contextlib.contextmanager
def py_spy(pids: list[int], out: Path, duration: int, idle: bool = True) -> Iterator[None]:
    """Sample the given processes (collapsed stacks) while the block runs.

    ``idle=True`` also samples threads waiting (on PostgreSQL, Redis, a lock):
    wall-clock time; ``idle=False`` samples only on-CPU time.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    procs = []
    for pid in pids:
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--format",
                    "raw",
                    "--idle",
                    "--rate",
                    "200",
                    "--duration",
                    str(duration),
                    "--nonblocking",
                    "--output",
                    str(out.with_suffix(f".{pid}.txt")),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGINT)  # py-spy writes its file on SIGINT
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _stop(proc)


def summarise_profile(files: list[Path], buckets: dict[str, str],
                      within: str = "handle_request") -> dict:
    """Share of request-handling samples whose stack matches each bucket's regex.

    ``files`` are py-spy raw (collapsed) outputs: one line per distinct stack,
    frames ``func (path:line)`` joined by ``;``, then the sample count. Only
    samples whose stack contains ``within`` count (a gunicorn worker waiting
    in accept() is not request time). A sample counts once per bucket
    (inclusive time); buckets may overlap, so they need not add up to 100%.
    """
    patterns = {name: re.compile(rx) for name, rx in buckets.items()}
    total = 0
    counts = dict.fromkeys(buckets, 0)
    leaf: dict[str, int] = {}
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit() or within not in stack:
                continue
            n_samples = int(n)
            total += n_samples
            for name, rx in patterns.items():
                if rx.search(stack):
                    counts[name] += n_samples
            top = stack.rsplit(";", 1)[-1]
            leaf[top] = leaf.get(top, 0) + n_samples
    share = {k: round(100 * v / total, 1) if total else 0.0 for k, v in counts.items()}
    top_leaves = sorted(leaf.items(), key=lambda kv: -kv[1])[:12]
    return {
        "samples": total,
        "inclusive_pct": share,
        "top_self_pct": {k: round(100 * v / total, 1) for k, v in top_leaves} if total else {},
    }


def profile_children(files: list[Path], frame: str, depth: int = 1) -> dict[str, int]:
    """Samples under the first frame containing ``frame``, by the next ``depth`` frames."""
    out: dict[str, int] = {}
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            frames = stack.split(";")
            for i, f in enumerate(frames):
                if frame in f:
                    key = ";".join(frames[i + 1:i + 1 + depth]) or "<self>"
                    out[key] = out.get(key, 0) + int(n)
                    break
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


class SamplingThread:
    """Runs ``_run`` in a daemon thread from ``__enter__`` to ``__exit__``; ``_run``
    loops until ``self._stop`` is set, waiting ``self.interval`` between samples."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class PgActivitySampler(SamplingThread):
    """Samples pg_stat_activity of one database every ``interval`` s in a thread.

    Reports, over the backends running a query, the share of samples on CPU
    (no wait event) and in each wait event: ``Lock:transactionid`` (waiting
    for another transaction, e.g. an INSERT ... ON CONFLICT on a row that a
    concurrent, uncommitted batch inserted), ``IO:WALSync`` (commit flushing
    the WAL), etc. Backends idle or idle in transaction are counted apart.
    """

    def __init__(self, database: str, interval: float = 0.05) -> None:
        super().__init__(interval)
        self.database = database
        self.counts: dict[str, int] = {}
        self.samples = 0
        self._cpu_first: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(PG_URL.format(name=self.database), autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = "
                    "'client backend'", (self.database,)).fetchall()
                self.samples += 1
                for pid, state, wtype, wevent in rows:
                    if state == "active":
                        key = f"active:{wtype}:{wevent}" if wtype else "active:on CPU"
                    else:
                        key = state or "unknown"
                    self.counts[key] = self.counts.get(key, 0) + 1
                    # CPU of each backend: from its first sighting (0 if it appeared
                    # after the first sample) to its last; an exit loses < interval.
                    cpu = cpu_seconds([pid])
                    if pid not in self._cpu_first:
                        self._cpu_first[pid] = cpu if self.samples == 1 else 0.0
                    self._cpu_last[pid] = cpu
                self._stop.wait(self.interval)

    @property
    def backend_cpu_seconds(self) -> float:
        return sum(last - self._cpu_first[pid] for pid, last in self._cpu_last.items())

    def summary(self) -> dict:
        """Mean number of backends in each state, over the samples taken."""
        if not self.samples:
            return {}
        ordered = sorted(self.counts.items(), key=lambda kv: -kv[1])
        return {"samples": self.samples,
                "mean_backends": {k: round(v / self.samples, 2) for k, v in ordered}}


# --- synthetic but realistic data ------------------------------------------------------

_EN = (
    "We stayed three nights for a family wedding and the room was spotless.",
    "The staff at the front desk were friendly and helped us book a table nearby.",
    "Breakfast was generous, with fresh croissants, fruit and decent coffee.",
    "Unfortunately the air conditioning rattled all night and nobody came to fix it.",
    "The view over the old harbour made up for the small bathroom.",
    "Service was slow on Saturday evening but the waiter apologised and offered dessert.",
    "The steak was cooked exactly as asked and the wine list is excellent value.",
    "Parking is tight, so arrive early or use the public car park two streets away.",
    "Our booking had been lost, which took forty minutes to sort out at check-in.",
    "I would happily come back, especially for the spa and the quiet garden.",
    "The room smelled of smoke even though it was supposed to be non-smoking.",
    "Great location, a short walk from the station and the main sights.",
    "Portions were small for the price and the fish was slightly overcooked.",
    "The manager came to our table to check everything was fine, a nice touch.",
    "Wi-Fi kept dropping, which was a problem since I was travelling for work.",
    "Beds were comfortable and the blackout curtains really work.",
    "Noise from the bar downstairs went on until two in the morning.",
    "Vegetarian options were creative and clearly labelled on the menu.",
)
_FR = (
    "Nous avons passé trois nuits pour un mariage et la chambre était impeccable.",
    "Le personnel de la réception a été très accueillant et de bon conseil.",
    "Le petit-déjeuner était copieux, avec des viennoiseries fraîches et un bon café.",
    "Malheureusement la climatisation a fait du bruit toute la nuit.",
    "La vue sur le vieux port compensait la petite salle de bains.",
    "Le service était lent samedi soir mais le serveur s'est excusé.",
    "La viande était cuite exactement comme demandé et la carte des vins est abordable.",
    "Le stationnement est difficile, mieux vaut arriver tôt.",
    "Notre réservation avait été perdue, il a fallu quarante minutes pour régler cela.",
    "Je reviendrai volontiers, surtout pour le spa et le jardin très calme.",
    "La chambre sentait le tabac alors qu'elle était non-fumeur.",
    "Emplacement idéal, à deux pas de la gare et du centre historique.",
    "Les portions étaient petites pour le prix et le poisson un peu trop cuit.",
    "Le gérant est venu s'assurer que tout allait bien, une belle attention.",
    "Le wifi coupait sans arrêt, gênant pour un séjour professionnel.",
    "Literie confortable et rideaux occultants efficaces.",
    "Le bruit du bar au rez-de-chaussée a duré jusqu'à deux heures du matin.",
    "Les plats végétariens étaient créatifs et bien indiqués sur la carte.",
)
_TITLES_EN = (
    "Lovely stay",
    "Not again",
    "Good value",
    "Disappointing",
    "Perfect weekend",
    "Mixed feelings",
    "Great food",
    "Noisy room",
)
_TITLES_FR = (
    "Séjour agréable",
    "Déçu",
    "Bon rapport qualité-prix",
    "Week-end parfait",
    "Avis mitigé",
    "Excellente cuisine",
    "Chambre bruyante",
)
_FIRST = (
    "Marie",
    "Jean",
    "Sophie",
    "Luc",
    "Emma",
    "Paul",
    "Chloé",
    "Hugo",
    "Alice",
    "Tom",
    "Sarah",
    "James",
    "Olivia",
    "Noah",
    "Léa",
    "Louis",
    "Grace",
    "Omar",
    "Inès",
    "Ben",
)
_CITIES = (
    ("Lyon", "FR"),
    ("Paris", "FR"),
    ("Nice", "FR"),
    ("Bordeaux", "FR"),
    ("Marseille", "FR"),
    ("London", "GB"),
    ("Bristol", "GB"),
    ("Brussels", "BE"),
    ("Geneva", "CH"),
    ("Montréal", "CA"),
)
NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(rng: random.Random, sentences: tuple[str, ...]) -> str:
    target = rng.randint(200, 600)
    out: list[str] = []
    size = 0
    while size < target:
        s = rng.choice(sentences)
        out.append(s)
        size += len(s) + 1
    return " ".join(out)


@dataclass
class Dataset:
    establishments: list[dict]
    reviewers: list[dict]
    reviews: list[dict] = field(default_factory=list)


def make_establishments(n: int, prefix: str = "est") -> list[dict]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        city, country = rng.choice(_CITIES)
        kind = "hotel" if i % 3 else "restaurant"
        out.append(
            {
                "external_id": f"{prefix}-{i:05d}",
                "name": f"{city} {kind} {i}",
                "kind": kind,
                "city": city,
                "country": country,
            }
        )
    return out


def make_reviewers(n: int, prefix: str = "u", seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        first = rng.choice(_FIRST)
        created = NOW - dt.timedelta(days=rng.randint(1, 3000), seconds=rng.randint(0, 86399))
        out.append(
            {
                "external_id": f"{prefix}-{i:07d}",
                "display_name": f"{first} {chr(65 + rng.randint(0, 25))}.",
                "email": f"{first.lower()}.{i}@example.org" if rng.random() < 0.9 else "",
                "account_created_at": _iso(created),
                "ip": f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                "device_id": f"dev-{rng.getrandbits(48):012x}" if rng.random() < 0.8 else "",
            }
        )
    return out


def make_reviews(
    n: int, establishments: list[dict], reviewers: list[dict], *, prefix: str, seed: int = 3,
    now: dt.datetime = NOW, spread_days: int = 700,
) -> list[dict]:
    """``n`` review payloads: EN/FR texts of 200-600 characters, skewed popularity,
    written over the ``spread_days`` days before ``now``."""
    rng = random.Random(seed)
    n_est, n_rev = len(establishments), len(reviewers)
    out = []
    for i in range(n):
        french = rng.random() < 0.4
        # Popularity skewed towards the first establishments: P(index < k) = sqrt(k / n),
        # so with 500 establishments the top one holds ~4.5% of the reviews, the median ~0.1%.
        est = establishments[int(n_est * rng.random() ** 2)]
        created = now - dt.timedelta(days=rng.randint(0, spread_days),
                                     seconds=rng.randint(0, 86399))
        item = {
            "external_id": f"{prefix}-{i:07d}",
            "establishment": est["external_id"],
            "reviewer": reviewers[rng.randrange(n_rev)],
            "rating": rng.choices((1, 2, 3, 4, 5), weights=(8, 7, 12, 33, 40))[0],
            "title": rng.choice(_TITLES_FR if french else _TITLES_EN),
            "text": _text(rng, _FR if french else _EN),
            "visit_date": (created - dt.timedelta(days=rng.randint(1, 30))).date().isoformat(),
            "booking_ref": f"BK-{rng.randint(10000, 99999)}" if rng.random() < 0.6 else "",
            "created_at": _iso(created),
        }
        if rng.random() < 0.85:  # the rest is left for the service to infer
            item["language"] = "fr" if french else "en"
        out.append(item)
    return out


# --- a small asyncio HTTP/1.1 client --------------------------------------------------
# Cheaper per request than httpx/aiohttp, which matters when the client shares the
# two cores with the server; handles keep-alive, Connection: close and chunked bodies.


class HttpConnection:
    def __init__(self, port: int, api_key: str) -> None:
        self.port = port
        self.auth = f"Api-Key {api_key}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes | None = None,
                      extra_headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: {self.auth}\r\nAccept: application/json\r\n"
        )
        head += "".join(f"{name}: {value}\r\n" for name, value in (extra_headers or {}).items())
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(c[:-2] for c in chunks)
        else:
            data = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, data


def post_json_sync(port: int, api_key: str, path: str, payload) -> tuple[int, dict]:
    """One blocking request (setup steps, not timed)."""
    req = urllib.request.Request(
        f"http://{HOST}:{port}{path}",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310 (loopback)
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def register_establishments(port: int, api_key: str, establishments: list[dict]) -> None:
    for start in range(0, len(establishments), 1000):
        status, body = post_json_sync(
            port, api_key, "/api/v1/establishments/", establishments[start : start + 1000]
        )
        if status not in (200, 201):
            raise RuntimeError(f"establishments: {status} {body}")


# --- statistics -----------------------------------------------------------------------


def percentiles(values: list[float], points=(50, 90, 95, 99)) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    out = {}
    for p in points:
        k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        out[f"p{p}"] = ordered[k]
    out["max"] = ordered[-1]
    out["mean"] = statistics.fmean(ordered)
    return out


def ms(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v * 1000, 2) for k, v in d.items()}


def dump(result: dict, json_path: Path | None) -> None:
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(text + "\n")


def add_run_arguments(parser, *, database: str) -> None:
    """Options every service benchmark takes: its throw-away database and outputs."""
    parser.add_argument("--database", default=database)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--out", default="var/bench", help="logs, profiles and JSON results")
    parser.add_argument("--json", type=Path, nargs="?", const=None, default=None,
                        help="the result is printed as JSON; with a path, also written there")
