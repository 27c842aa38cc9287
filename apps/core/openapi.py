"""Shared OpenAPI pieces: the error envelope and the standard error responses."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(help_text="Stable code to switch on."),
                "message": serializers.CharField(),
                "fields": serializers.DictField(help_text="Per-field (or per-item) details."),
            },
        )
    },
)


def error_responses(*statuses: int,
                    descriptions: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "Invalid input (`validation_error`, `malformed_request`, `unknown_establishment`, …).",
        401: "Missing or invalid API key.",
        404: "Not found, or another partner's object.",
        409: "Same external_id, different payload (`review_conflict`).",
        413: "Batch or body too large.",
        415: "Unsupported media type.",
        429: "Rate limited.",
        **(descriptions or {}),
    }
    return {s: OpenApiResponse(ErrorSerializer, description=descriptions[s]) for s in statuses}
