"""Outages from outside: gunicorn on PostgreSQL and a Redis of its own, then the
Redis (broker and cache) killed, then PostgreSQL cut off, each while the API is
being called. Loopback only, bounded (a few hundred requests, about a minute).

    .venv/bin/python -m bench.outages

The Redis is a throw-away `redis-server` on its own port; PostgreSQL is reached
through a TCP proxy this script runs and stops, so the shared services are
never touched. Prints the answers of each phase and the time to recover.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpProxy:
    """127.0.0.1:port -> target; stop() refuses new connections and cuts live ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.listener: socket.socket | None = None
        self.live: list[socket.socket] = []

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self) -> None:
        if self.listener:
            with contextlib.suppress(OSError):  # shutdown wakes the blocked accept()
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for sock in self.live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self.live.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.live += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def call(base: str, key: str, method: str, path: str, body=None) -> tuple[int, dict, float]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    request = urllib.request.Request(  # noqa: S310 (loopback http only)
        base + path, data=data, method=method, headers=headers
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), time.monotonic() - started


def review(n: int) -> dict:
    return {"external_id": f"out-{n}", "establishment": "htl-1", "rating": 4, "text": "Fine.",
            "created_at": "2026-05-03T08:12:00Z",
            "reviewer": {"external_id": f"g-{n}", "email": f"g{n}@example.org"}}


def phase(name: str, base: str, key: str, requests: list[tuple[str, str, object]]) -> None:
    statuses: collections.Counter = collections.Counter()
    retry_after: set[str] = set()
    slowest = 0.0
    for method, path, body in requests:
        status, headers, seconds = call(base, key, method, path, body)
        statuses[status] += 1
        slowest = max(slowest, seconds)
        if "Retry-After" in headers:
            retry_after.add(headers["Retry-After"])
    print(f"{name}: {dict(sorted(statuses.items()))}, slowest {slowest:.2f} s"
          + (f", Retry-After {sorted(retry_after)}" if retry_after else ""))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100, help="requests per phase")
    args = parser.parse_args()
    n = args.requests
    database = "rg_bench_outages"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    redis_port, web_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="rg-outages-")
    redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", workdir]
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{proxy.port}/{database}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
        CACHE_URL=f"redis://127.0.0.1:{redis_port}/1", CELERY_QUEUE="rg-outages",
        SECRET_KEY="outage-bench-secret-key-0123456789-0123456789-0123456789",  # noqa: S106
        PII_HASH_KEY="outage-bench-pii-hash-key-0123456789-0123456789-012345678",
        REVIEWGUARD_VAR_DIR=workdir, LOG_LEVEL="CRITICAL", CONN_MAX_AGE="60",
    )
    redis_proc = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    web = None
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        key = subprocess.run([PY, "manage.py", "create_partner", "outages"], cwd=ROOT, env=env,
                             check=True, capture_output=True, text=True).stdout.split()[-1]
        web = subprocess.Popen([PY, "-m", "gunicorn", "reviewguard.wsgi", "--bind",
                                f"127.0.0.1:{web_port}", "--workers", "2", "--log-level",
                                "error"], cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{web_port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        call(base, key, "POST", "/api/v1/establishments/", {
            "external_id": "htl-1", "name": "H", "kind": "hotel", "city": "Lyon", "country": "FR"})

        phase("baseline, POST /reviews/", base, key,
              [("POST", "/api/v1/reviews/", review(i)) for i in range(n)])
        redis_proc.kill()
        redis_proc.wait()
        phase("Redis (broker and cache) killed, POST /reviews/", base, key,
              [("POST", "/api/v1/reviews/", review(n + i)) for i in range(n)])
        redis_proc = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        phase("Redis back, POST /reviews/", base, key,
              [("POST", "/api/v1/reviews/", review(2 * n + i)) for i in range(n // 4)])
        proxy.stop()
        phase("PostgreSQL cut off, GET and POST /reviews/", base, key,
              [("GET", "/api/v1/reviews/", None) if i % 2 else
               ("POST", "/api/v1/reviews/", review(3 * n + i)) for i in range(n)])
        proxy.start()
        started = time.monotonic()
        status = 0
        while status != 200 and time.monotonic() - started < 30:
            status = call(base, key, "GET", "/api/v1/reviews/")[0]
        print(f"PostgreSQL back: first 200 after {time.monotonic() - started:.2f} s, "
              "same gunicorn processes")
        phase("PostgreSQL back, POST /reviews/", base, key,
              [("POST", "/api/v1/reviews/", review(4 * n + i)) for i in range(n // 4)])
        with psycopg.connect(f"postgres://postgres@127.0.0.1:5432/{database}") as conn:
            stored = conn.execute("SELECT count(*) FROM reviews_review").fetchone()[0]
        print(f"reviews stored: {stored}")
    finally:
        if web:
            web.terminate()
            web.wait(20)
        redis_proc.kill()
        proxy.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
