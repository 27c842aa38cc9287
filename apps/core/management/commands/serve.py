"""``manage.py serve``: the web server and a Celery worker (with beat), together.

This is what ``make run`` starts: gunicorn for the API and the admin (with
the product's settings, reviewguard/gunicorn.conf.py: threaded workers), and a
real Celery worker on whatever broker is configured (the embedded filesystem
broker by default). Ctrl-C (or SIGTERM) stops both cleanly.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def gunicorn_conf_path() -> str:
    return str(settings.BASE_DIR / "reviewguard" / "gunicorn.conf.py")


def web_command(*, python: str, host: str, port: int, web_workers: int | None) -> list[str]:
    """gunicorn's argv: the product's settings file, bound to ``host:port``, with
    ``web_workers`` processes when given (else the file's default)."""
    cmd = [python, "-m", "gunicorn", "reviewguard.wsgi", "-c", gunicorn_conf_path(),
           "--bind", f"{host}:{port}", "--access-logfile", "-"]
    if web_workers is not None:
        cmd += ["--workers", str(web_workers)]
    return cmd


class Command(BaseCommand):
    help = "Run the web server and a Celery worker with beat until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--web-workers", type=int, default=None,
            help="gunicorn processes (default: reviewguard/gunicorn.conf.py's, 2, "
                 "or WEB_CONCURRENCY), each with 4 threads")

    def handle(self, *args, port: int, host: str, web_workers: int | None, **options):
        python = sys.executable
        commands = {
            "web": web_command(python=python, host=host, port=port, web_workers=web_workers),
            "worker": [
                python, "-m", "celery", "-A", "reviewguard", "worker", "--beat",
                "--loglevel", "INFO", "--concurrency", "2",
            ],
        }
        processes = {
            name: subprocess.Popen(cmd, env=os.environ.copy())  # noqa: S603 (our own argv)
            for name, cmd in commands.items()
        }
        self.stdout.write(
            f"ReviewGuard on http://{host}:{port}/  (API docs: /api/v1/docs/, admin: /admin/)\n"
            "Press Ctrl-C to stop the server and the worker."
        )

        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            if stopping:
                return
            stopping = True
            for proc in processes.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        # Ctrl-C reaches the children too (same process group); either signal
        # means a clean stop, never "a child died".
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        died: list[str] = []
        while all(proc.poll() is None for proc in processes.values()) and not stopping:
            time.sleep(0.5)
        if not stopping:  # a child ended on its own
            died = [name for name, proc in processes.items() if proc.poll() is not None]
        stop()
        deadline = time.monotonic() + 20
        for name, proc in processes.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                proc.kill()
        if died:
            raise SystemExit(f"{', '.join(died)} exited unexpectedly; the other was stopped")
