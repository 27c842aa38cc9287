"""One error type for the domain and one JSON error shape for the API.

Services raise ``ApplicationError``; the API layer turns it, and every DRF or
Django error, into ``{"error": {"code", "message", "fields"}}`` with a 4xx
status. Codes are stable strings partners can switch on.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A domain error: a stable code, a human message, optional per-field detail."""

    status_code = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        if status is not None:
            self.status_code = status


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


_DRF_CODES: dict[type[Exception], str] = {
    drf.ParseError: "malformed_request",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
}


def _flatten(detail: Any) -> Any:
    """DRF ErrorDetail trees -> plain lists/dicts of strings."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


logger = logging.getLogger(__name__)


def is_outage(exc: BaseException | None) -> bool:
    """True for errors that mean a backing service (database, cache) is unreachable.

    These are answered 503 with Retry-After, not 500: nothing is wrong with
    the request, and the same request will work once the service is back.
    """
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a runtime requirement
        return False
    return isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)


def retry_after_seconds() -> int:
    return int(getattr(settings, "OUTAGE_RETRY_AFTER_SECONDS", 10))


def _unavailable_body() -> dict:
    return error_body(
        "service_unavailable",
        "The service is temporarily unavailable; retry after the delay in Retry-After.",
    )


def service_unavailable(request) -> HttpResponse:
    """503 with Retry-After: JSON under /api/ (and for probes), a short page elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse(_unavailable_body(), status=503)
    else:
        response = HttpResponse(
            "<!doctype html><title>Service unavailable</title>"
            "<h1>Service temporarily unavailable</h1>"
            "<p>Please try again in a moment. / Service momentanément indisponible : "
            "réessayez dans un instant.</p>",
            status=503, content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after_seconds())
    return response


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if is_outage(exc):
        logger.warning("backing service unavailable: %s: %s", type(exc).__name__, exc)
        return Response(
            _unavailable_body(), status=503, headers={"Retry-After": str(retry_after_seconds())}
        )
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", _("The request body is larger than this API accepts.")),
            status=413,
        )
    if isinstance(exc, SuspiciousOperation):
        code, message = _bad_request(exc)
        return Response(error_body(code, message), status=400)
    if isinstance(exc, DataError):
        # A value the database cannot hold slipped past validation: the
        # statement failed and nothing was written. Bad input, not a crash.
        logger.warning("value refused by the database: %s", exc)
        return Response(
            error_body("invalid_value", "A value in the request cannot be stored or queried."),
            status=400,
        )
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    if isinstance(exc, drf.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        response.data = error_body("validation_error", _("The request is invalid."), fields)
        return response
    code = next((c for t, c in _DRF_CODES.items() if isinstance(exc, t)), "error")
    message = str(exc.detail) if isinstance(exc, drf.APIException) else str(exc)
    if isinstance(exc, drf.ParseError):
        message = _("The request body could not be parsed: %(reason)s") % {"reason": message}
    response.data = error_body(code, message)
    return response


def _bad_request(exc: BaseException | None) -> tuple[str, str]:
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return "too_many_fields", _("The form has more fields or files than this service accepts.")
    return "malformed_request", _("The request could not be read.")


def json_400(request, exception=None):
    """A bad request that never reached a view (too many form fields, bad host…):
    JSON under /api/, a short styled page elsewhere; never Django's bare page."""
    code, message = _bad_request(exception)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=400)
    response = TemplateResponse(
        request, "errors/400.html", {"message": message, "back": request.path}, status=400
    )
    return response.render()


def json_404(request, exception=None):
    """JSON 404 under /api/, Django's page elsewhere (portal, admin)."""
    if not request.path.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def json_500(request):
    # Called while the exception is being handled: an outage raised outside a
    # DRF view (middleware, portal, admin) is still a 503, not a 500.
    if is_outage(sys.exc_info()[1]):
        return service_unavailable(request)
    if not request.path.startswith("/api/"):
        return defaults.server_error(request)
    return JsonResponse(error_body("server_error", "Internal error; it has been logged."), status=500)
