"""API v1: establishments (one object or a list per POST)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.core.openapi import error_responses
from apps.core.payloads import validate_one_or_many
from apps.core.validation import Field, one_or_many_schema

from .models import Establishment
from .selectors import establishments_of_partner
from .services import establishments_upsert

MAX_BATCH = 1000
ESTABLISHMENT_FIELDS = (
    Field("external_id", max_length=100, example="htl-lyon-042"),
    Field("name", max_length=200, example="Hôtel des Célestins"),
    Field("kind", choices=tuple(Establishment.Kind.values)),
    Field("city", max_length=100, example="Lyon"),
    Field("country", pattern=r"[A-Z]{2}", pattern_message="Must be an ISO 3166-1 alpha-2 code such as FR.",
          example="FR"),
)


# What a list answers: one result per item, in order.
BATCH_RESPONSE = {
    "type": "object",
    "required": ["results"],
    "properties": {"results": {"type": "array", "items": {
        "type": "object",
        "required": ["index", "external_id", "status", "result"],
        "properties": {
            "index": {"type": "integer"},
            "external_id": {"type": "string"},
            "status": {"type": "integer", "enum": [200, 201]},
            "result": {"type": "string", "enum": ["created", "updated", "unchanged"]},
        },
    }}},
}


class EstablishmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Establishment
        fields = ("external_id", "name", "kind", "city", "country", "created_at", "updated_at")


class EstablishmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = EstablishmentSerializer
    lookup_field = "external_id"
    lookup_value_regex = r"[^/\x00-\x1f]+"  # no control characters (NUL cannot be queried)
    filterset_fields = ("kind", "country", "city")

    queryset = Establishment.objects.none()  # for the schema generator

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return establishments_of_partner(partner=self.request.user.partner)

    @extend_schema(
        request={"application/json": one_or_many_schema(ESTABLISHMENT_FIELDS, max_items=MAX_BATCH)},
        responses={
            201: EstablishmentSerializer,
            200: {"oneOf": [{"$ref": "#/components/schemas/Establishment"}, BATCH_RESPONSE]},
            **error_responses(400, 401, 413),
        },
        description="Create or update one establishment, or a list of up to 1,000 "
        "(idempotent on external_id; a list answers per item).",
    )
    def create(self, request):
        items, many = validate_one_or_many(
            request.data, fields=ESTABLISHMENT_FIELDS, max_items=MAX_BATCH, noun="establishment"
        )
        results = establishments_upsert(partner=request.user.partner, items=items)
        if not many:
            result = results[0]
            return Response(
                EstablishmentSerializer(result.establishment).data,
                status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
            )
        return Response(
            {
                "results": [
                    {
                        "index": i,
                        "external_id": r.establishment.external_id,
                        "status": 201 if r.created else 200,
                        "result": "created" if r.created else ("updated" if r.updated else "unchanged"),
                    }
                    for i, r in enumerate(results)
                ]
            }
        )
