"""One error type for the domain and one JSON error shape for the API.

Services raise ``ApplicationError``; the API layer turns it, and every DRF or
Django error, into ``{"error": {"code", "message", "fields"}}`` with a 4xx
status. Codes are stable strings partners can switch on.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
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


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", _("The request body is larger than this API accepts.")),
            status=413,
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


def json_404(request, exception=None):
    """JSON 404 under /api/, Django's page elsewhere (portal, admin)."""
    if not request.path.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def json_500(request):
    if not request.path.startswith("/api/"):
        return defaults.server_error(request)
    return JsonResponse(error_body("server_error", "Internal error; it has been logged."), status=500)
