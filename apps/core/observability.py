"""Request ids, JSON logs and request metrics.

- ``RequestIdMiddleware`` takes the caller's ``X-Request-ID`` (if it is a sane
  token) or makes one, keeps it in a context variable for the request, and
  answers with it.
- Celery signals carry it on: a task published while a request (or a task) is
  running gets it in its message headers, and the worker puts it back in the
  context variable while that task runs, so its log lines carry it too.
- ``RequestIdFilter`` and ``JsonFormatter`` put it in every log line, one JSON
  object a line.
- ``RequestMetricsMiddleware`` counts requests and times them by route (the
  URL pattern, not the path, so the label set stays small) for ``/metrics``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from prometheus_client import Counter, Histogram

HEADER = "X-Request-ID"
_META = "HTTP_X_REQUEST_ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return request_id_var.get()


@contextlib.contextmanager
def request_ids_as_current(request_ids: Iterable[str]) -> Iterator[None]:
    """Work done for several requests at once (one task publish for many POSTs)
    carries all their ids, space-separated (at most 20 named)."""
    unique = list(dict.fromkeys(r for r in request_ids if r))
    value = " ".join(unique[:20]) + (f" +{len(unique) - 20}" if len(unique) > 20 else "")
    token = request_id_var.set(value)
    try:
        yield
    finally:
        request_id_var.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get(_META, "")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


# --- logs --------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            # Django logs 4xx/5xx answers after the middleware has returned,
            # with the request in the record: its id is still there.
            request = getattr(record, "request", None)
            record.request_id = current_request_id() or getattr(request, "request_id", "")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or current_request_id(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

    converter = time.gmtime


# --- Celery: carry the id into the tasks a request causes ---------------------------------


@before_task_publish.connect
def _inject_request_id(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if headers is not None and request_id and not headers.get("request_id"):
        headers["request_id"] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


logger = logging.getLogger(__name__)


@task_prerun.connect
def _adopt_request_id(task_id=None, task=None, **kwargs) -> None:
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    if request_id and task_id:
        _task_tokens[task_id] = request_id_var.set(str(request_id))
    if task is not None:
        logger.info("task %s[%s] started", task.name, task_id)


@task_postrun.connect
def _drop_request_id(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        request_id_var.reset(token)


@setup_logging.connect
def _keep_django_logging(**kwargs) -> None:
    """Workers log with the project's LOGGING (JSON, request ids), not Celery's own."""
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


# --- request metrics ---------------------------------------------------------------------

REQUESTS = Counter(
    "reviewguard_http_requests", "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "reviewguard_http_request_duration_seconds", "Time to answer, by route.", ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


#: Time from a review's acceptance (``received_at``, the server's clock at insert)
#: to its verdict, observed once per review where verdicts are written
#: (``apps.reviews.services.reviews_apply_scores``), in the scoring worker: its
#: samples reach ``/metrics`` when web and worker processes share
#: ``PROMETHEUS_MULTIPROC_DIR``. Historical backfills are not observed.
SCORING_LATENCY = Histogram(
    "reviewguard_scoring_latency_seconds",
    "Time from a review's acceptance to its verdict (live scoring).",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        LATENCY.labels(route).observe(time.perf_counter() - started)
        REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        return response
