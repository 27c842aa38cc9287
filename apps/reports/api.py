"""API v1: threat reports relayed by partners on behalf of owners (JSON or multipart with evidence)."""

from __future__ import annotations

import json

from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import PartnerScopedViewSet
from apps.core.exceptions import ApplicationError
from apps.core.openapi import error_responses
from apps.core.validation import object_schema, validate_object
from apps.detection.services import threat_report_submit
from apps.establishments.selectors import establishments_of_partner

from .models import ThreatReport
from .schemas import GUEST_FIELDS, REPORT_FIELDS
from .selectors import threat_reports_of_partner
from .services import threat_report_already_filed
from .transparency import period_parse, transparency_report


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class LinkedReviewSerializer(serializers.Serializer):
    external_id = serializers.CharField(source="review.external_id")
    status = serializers.CharField(source="review.status")
    rating = serializers.IntegerField(source="review.rating")
    matched_by = serializers.SerializerMethodField()
    held_by_this_report = serializers.BooleanField(source="held")

    @extend_schema_field({"type": "array", "items": {
        "type": "string", "enum": ["email", "booking_ref", "handle", "name"]}})
    def get_matched_by(self, link) -> list[str]:
        return [m for m in link.methods.split(",") if m]


class ThreatReportSerializer(serializers.ModelSerializer):
    establishment = serializers.CharField(source="establishment.external_id")
    guest = serializers.SerializerMethodField()
    filed_by = serializers.SerializerMethodField()
    evidence = EvidenceSerializer(many=True, read_only=True)
    reviews = LinkedReviewSerializer(source="links", many=True, read_only=True)
    cases = serializers.SerializerMethodField()

    class Meta:
        model = ThreatReport
        fields = (
            "id", "establishment", "status", "guest", "channel", "message_text", "demand",
            "received_at", "created_at", "decided_at", "filed_by", "evidence", "reviews", "cases",
        )

    @extend_schema_field({"type": "object", "properties": {
        "name": {"type": "string"},
        "identifiers": {"type": "array", "items": {"type": "string"},
                        "description": "Which identifiers were given (their values are stored "
                                       "only as keyed hashes and never returned)."},
    }})
    def get_guest(self, report: ThreatReport) -> dict:
        given = [
            name for name, value in (
                ("email", report.guest_email_hash),
                ("booking_ref", report.guest_booking_ref_hash),
                ("reviewer_handle", report.guest_handle_hash),
            ) if value
        ]
        return {"name": report.guest_name, "identifiers": given}

    @extend_schema_field({"type": "string", "enum": ["owner", "partner"]})
    def get_filed_by(self, report: ThreatReport) -> str:
        return "owner" if report.reporter_id else "partner"

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_cases(self, report: ThreatReport) -> list[int]:
        return sorted(c.id for c in report.cases.all())


REPORT_EXAMPLE = {
    "establishment": "htl-lyon-042",
    "guest": {"name": "Jean Dupont", "email": "jean.dupont@example.org",
              "booking_ref": "BK-55120", "reviewer_handle": "jdupont75"},
    "channel": "email",
    "message_text": "Remboursez-moi la nuit, sinon je publie un avis à une étoile partout.",
    "demand": "refund",
    "received_at": "2026-05-02T19:40:00Z",
}

def _openapi_clean(schema):
    """OpenAPI 3.0 forbids ``required: []`` (the guest object has no required field)."""
    if isinstance(schema, dict):
        return {k: _openapi_clean(v) for k, v in schema.items() if not (k == "required" and v == [])}
    if isinstance(schema, list):
        return [_openapi_clean(v) for v in schema]
    return schema


JSON_SCHEMA = _openapi_clean(object_schema(REPORT_FIELDS))

MULTIPART_SCHEMA = {
    "type": "object",
    "properties": {
        **{f.name: f.openapi() for f in REPORT_FIELDS if f.name != "guest"},
        "guest": {"type": "string", "description": "The guest object as a JSON string; or send "
                  "guest.name, guest.email, guest.booking_ref, guest.reviewer_handle fields."},
        **{f"guest.{f.name}": f.openapi() for f in GUEST_FIELDS},
        "evidence": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "PNG, JPEG, GIF, WebP, PDF or .eml files; type checked on "
                                    "content and extension; at most 10 files of 10 MB each."},
    },
    "required": [f.name for f in REPORT_FIELDS if f.required and f.name != "guest"],
}


def _payload_from_form(data: QueryDict) -> dict:
    """Multipart fields -> the JSON payload shape (guest as JSON text or guest.* fields)."""
    payload = {f.name: data.get(f.name) for f in REPORT_FIELDS if f.name != "guest"}
    raw_guest = data.get("guest")
    if raw_guest:
        try:
            payload["guest"] = json.loads(raw_guest)
        except ValueError as exc:
            raise ApplicationError(
                "validation_error", _("The request is invalid."),
                fields={"guest": [_("Must be a JSON object.")]},
            ) from exc
    else:
        guest = {}
        for f in GUEST_FIELDS:
            value = data.get(f"guest.{f.name}", data.get(f"guest[{f.name}]"))
            if value is not None:
                guest[f.name] = value
        payload["guest"] = guest or None
    return payload


class ThreatReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerScopedViewSet):
    serializer_class = ThreatReportSerializer
    model = ThreatReport

    def scoped(self, partner):
        return threat_reports_of_partner(partner=partner)

    @extend_schema(
        request={
            "application/json": JSON_SCHEMA,
            "multipart/form-data": MULTIPART_SCHEMA,
        },
        responses={201: ThreatReportSerializer, 200: ThreatReportSerializer,
                   **error_responses(400, 401, 413, 415)},
        examples=[OpenApiExample("A refund-or-one-star threat", value=REPORT_EXAMPLE,
                                 request_only=True)],
        description=(
            "Relay a threat an owner received. The guest's e-mail, booking reference and "
            "reviewer handle are stored only as keyed hashes. Send JSON, or multipart/form-data "
            "with `evidence` files (images, PDF or .eml; a wrong type is 400 "
            "`unsupported_evidence_type`, a file over the cap 413 `evidence_too_large`). "
            "Linkage to the guest's reviews runs in the background; reviews held because of "
            "the report appear under `reviews` and trigger `review.status_changed` webhooks. "
            "Idempotent on content: the same report again (same establishment, guest, "
            "channel, message, demand, time and evidence files) answers 200 with the report "
            "already filed."
        ),
    )
    def create(self, request):
        is_form = isinstance(request.data, QueryDict)
        data = _payload_from_form(request.data) if is_form else request.data
        if not isinstance(data, dict):
            raise ApplicationError("invalid_payload", _("Send one threat report object."))
        clean, errors = validate_object(REPORT_FIELDS, data)
        if errors:
            raise ApplicationError("validation_error", _("The request is invalid."), fields=errors)
        partner = request.user.partner
        establishment = establishments_of_partner(partner=partner).filter(
            external_id=clean["establishment"]
        ).first()
        if establishment is None:
            raise ApplicationError(
                "unknown_establishment",
                _("Unknown establishment %(id)s.") % {"id": repr(clean["establishment"])},
                fields={"establishment": [_("Register the establishment first.")]},
            )
        files = request.FILES.getlist("evidence") if is_form else []
        existing = threat_report_already_filed(partner=partner, establishment=establishment,
                                               payload=clean, files=files)
        if existing is not None:
            report = self.get_queryset().get(id=existing.id)
            return Response(ThreatReportSerializer(report).data, status=status.HTTP_200_OK)
        report = threat_report_submit(
            partner=partner, establishment=establishment, payload=clean, files=files
        )
        # The new report comes with its evidence, links and cases known (no read).
        return Response(ThreatReportSerializer(report).data, status=status.HTTP_201_CREATED)


# --- Transparency ----------------------------------------------------------------------


class TransparencyApi(APIView):
    """The calling partner's transparency report for one month (counts only)."""

    @extend_schema(
        operation_id="transparency_retrieve",
        parameters=[OpenApiParameter("period", str, description="A UTC month, YYYY-MM "
                                     "(default: the current month).", examples=[
                                         OpenApiExample("May 2026", value="2026-05")])],
        responses={200: inline_serializer(name="TransparencyReport", fields={
            "partner": serializers.CharField(),
            "period": serializers.CharField(),
            "reviews": serializers.DictField(child=serializers.IntegerField(), help_text=(
                "received, screened, published, held, removed, pending, "
                "published_after_review")),
            "by_kind": serializers.ListField(child=inline_serializer(
                name="TransparencyKind", fields={
                    "kind": serializers.CharField(), "reviews": serializers.IntegerField(),
                    "held": serializers.IntegerField(), "removed": serializers.IntegerField(),
                    "published": serializers.IntegerField()})),
            "decisions": inline_serializer(name="TransparencyDecisions", fields={
                "cases_decided": serializers.IntegerField(),
                "median_hours_to_decision": serializers.FloatField(allow_null=True)}),
            "appeals": serializers.DictField(child=serializers.DictField(
                child=serializers.IntegerField()), help_text="kind -> open/upheld/overturned"),
            "reports": serializers.DictField(child=serializers.IntegerField(), help_text=(
                "filed, open, linked, confirmed, dismissed")),
        }), **error_responses(400, 401)},
        description=(
            "What screening did to the partner's reviews received in the month: screened, "
            "published, held, removed and published after a moderator's review, by kind of "
            "finding; the median time from case to decision; appeals and their outcomes; "
            "owners' threat reports by outcome. Counts only: nothing identifies a person. "
            "The same figures are public at /transparency/<partner>/."
        ),
    )
    def get(self, request):
        period = period_parse(request.query_params.get("period"))
        report = transparency_report(partner=request.user.partner, period=period)
        return Response(report.as_dict())
