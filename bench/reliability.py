"""Reliability figures for bench/RESULTS.md (issue 11), bounded and loopback only.

    .venv/bin/python -m bench.reliability

1. A slow-drip webhook receiver (one byte a second): how long one delivery
   attempt holds the worker, with the total deadline (apps/partners/webhooks.py)
   and with the earlier `requests.post(timeout=5)`.
2. An oversized evidence upload through Django's multipart parser: how many
   bytes reach the handler that spools to disk, with and without
   CappedUploadHandler in front.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewguard.settings_test")
os.environ["CACHE_URL"] = "locmemcache://"
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.uploadhandler import FileUploadHandler  # noqa: E402
from django.http.multipartparser import MultiPartParser  # noqa: E402

from apps.core.exceptions import ApplicationError  # noqa: E402
from apps.partners.webhooks import post_with_deadline  # noqa: E402
from apps.reports.uploads import CappedUploadHandler  # noqa: E402

DRIP_BYTES = 25  # one a second: a receiver that takes 25 s to say "HTTP/1.1 200 OK..."


class Drip(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX: yyyyy\r\n\r\n"[:DRIP_BYTES]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1.0)
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


def webhook_drip() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    started = time.monotonic()
    outcome = post_with_deadline(url, body=b"{}", headers={"Content-Type": "application/json"},
                                 deadline=settings.WEBHOOK_TIMEOUT_SECONDS)
    ours = time.monotonic() - started
    print(f"webhook drip, total deadline {settings.WEBHOOK_TIMEOUT_SECONDS:g} s: "
          f"attempt ended after {ours:.2f} s ({outcome.error or outcome.status_code})")
    started = time.monotonic()
    try:
        requests.post(url, data=b"{}", timeout=5, allow_redirects=False)
        result = "answered"
    except requests.RequestException as exc:
        result = type(exc).__name__
    before = time.monotonic() - started
    print(f"webhook drip, requests.post(timeout=5): attempt ended after {before:.2f} s ({result})")
    server.shutdown()


class Spool(FileUploadHandler):
    """Where TemporaryFileUploadHandler sits: counts the bytes it would write."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        Spool.received += len(raw_data)
        return None

    def file_complete(self, file_size):
        return None


def upload(size: int, *, capped: bool) -> tuple[int, str]:
    boundary = "BOUNDARY"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; "
            f"filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = head + b"\x89PNG\r\n\x1a\n" + b"\x00" * (size - 8) + tail
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(len(body))}
    Spool.received = 0
    handlers = ([CappedUploadHandler()] if capped else []) + [Spool()]
    # The whole-request check would refuse this before reading a byte; measure
    # the per-file cap (a lying or absent Content-Length) by lifting it.
    settings.UPLOAD_MAX_REQUEST_BYTES = 10 * size
    try:
        MultiPartParser(meta, io.BytesIO(body), handlers).parse()
        outcome = "parsed"
    except ApplicationError as exc:
        outcome = f"refused {exc.status_code} {exc.code}"
    return Spool.received, outcome


def uploads() -> None:
    size = 200 * 1024 * 1024
    cap = settings.REPORT_EVIDENCE_MAX_BYTES
    for capped in (False, True):
        received, outcome = upload(size, capped=capped)
        print(f"upload of {size / 2**20:.0f} MiB, cap {cap / 2**20:.0f} MiB, "
              f"{'with' if capped else 'without'} CappedUploadHandler: "
              f"{received / 2**20:.2f} MiB reached the spooling handler ({outcome})")


if __name__ == "__main__":
    webhook_drip()
    uploads()
