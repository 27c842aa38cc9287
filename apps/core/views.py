"""The landing page, and the liveness and readiness probes."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reviewguard.celery import app as celery_app


@require_GET
def landing(request):
    """``/``: what ReviewGuard is, and the way in for each role."""
    return render(request, "landing.html")


@require_GET
def healthz(request) -> JsonResponse:
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means not ready
        return False, type(exc).__name__
    return True, "ok"


def _broker_ok() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return False, type(exc).__name__
    return True, "ok"


@require_GET
def readyz(request) -> JsonResponse:
    """The database and the broker both answer; 503 otherwise."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    ready = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": {"database": db_detail, "broker": broker_detail},
        },
        status=200 if ready else 503,
    )
