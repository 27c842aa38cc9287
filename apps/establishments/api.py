"""API v1: establishments (one object or a list per POST)."""

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from apps.core.api import PartnerScopedViewSet
from apps.core.exceptions import ApplicationError
from apps.core.openapi import error_responses
from apps.core.payloads import validate_one_or_many
from apps.core.reasons import reasons_payload
from apps.core.validation import Field, one_or_many_schema

from .models import Alert, Establishment, OwnerInvitation
from .selectors import establishments_of_partner, owner_invitations_of_partner
from .services import establishments_upsert, owner_invitation_create

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


class AlertSerializer(serializers.Serializer):
    """An attack under way on the establishment (never an honest crowd)."""

    kind = serializers.ChoiceField(choices=Alert.Kind.choices)
    since = serializers.DateTimeField()
    counts = serializers.DictField(child=serializers.IntegerField())
    reasons = serializers.SerializerMethodField()
    case = serializers.IntegerField(source="case_id", allow_null=True)

    @extend_schema_field({"type": "array", "items": {"type": "object", "properties": {
        "code": {"type": "string"}, "score": {"type": "number"}, "detail": {"type": "string"}}}})
    def get_reasons(self, alert: Alert) -> list[dict]:
        return reasons_payload(alert.reasons)


class EstablishmentSerializer(serializers.ModelSerializer):
    alert = serializers.SerializerMethodField()

    class Meta:
        model = Establishment
        fields = ("external_id", "name", "kind", "city", "country", "created_at", "updated_at",
                  "alert")

    @extend_schema_field(AlertSerializer(allow_null=True))
    def get_alert(self, establishment: Establishment) -> dict | None:
        active = getattr(establishment, "active_alerts", None)
        if active is None:
            active = list(establishment.alerts.filter(ended_at__isnull=True))
        latest = max(active, key=lambda a: a.last_seen_at, default=None)
        return AlertSerializer(latest).data if latest is not None else None


class EstablishmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerScopedViewSet):
    serializer_class = EstablishmentSerializer
    lookup_field = "external_id"
    lookup_value_regex = r"[^/\x00-\x1f]+"  # no control characters (NUL cannot be queried)
    filterset_fields = ("kind", "country", "city")

    model = Establishment

    def scoped(self, partner):
        return establishments_of_partner(partner=partner).prefetch_related(
            Prefetch("alerts", queryset=Alert.objects.filter(ended_at__isnull=True),
                     to_attr="active_alerts"))

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


# --- Owner invitations ---------------------------------------------------------------


class OwnerInvitationInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    establishments = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1, max_length=100,
        help_text="External ids of the establishments the owner will manage.",
    )
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES], default=settings.LANGUAGE_CODE,
        help_text="The language of the invitation and of later e-mails to the owner.",
    )


class OwnerInvitationSerializer(serializers.ModelSerializer):
    establishments = serializers.SlugRelatedField(many=True, read_only=True,
                                                  slug_field="external_id")
    status = serializers.ChoiceField(choices=OwnerInvitation.Status.values, read_only=True)

    class Meta:
        model = OwnerInvitation
        fields = ("id", "email", "establishments", "language", "status", "created_at",
                  "expires_at", "accepted_at")


class OwnerInvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             PartnerScopedViewSet):
    """Invite hotel and restaurant owners to the owner portal."""

    serializer_class = OwnerInvitationSerializer
    model = OwnerInvitation

    def scoped(self, partner):
        return owner_invitations_of_partner(partner=partner)

    @extend_schema(
        request=OwnerInvitationInputSerializer,
        responses={201: OwnerInvitationSerializer, **error_responses(400, 401, 415)},
        examples=[OpenApiExample("Invite the owner of two establishments", request_only=True,
                                 value={"email": "claire.martin@example.fr",
                                        "establishments": ["htl-lyon-042", "rst-lyon-007"],
                                        "language": "fr"})],
        description=(
            "E-mail the owner a one-time link to the owner portal, where they choose a "
            "password and then manage the named establishments (report threats, follow them). "
            "The link expires (72 hours by default) and is never returned by the API. A new "
            "invitation to the same address replaces the pending ones. Unknown establishments "
            "answer 400 `unknown_establishment` naming them."
        ),
    )
    def create(self, request):
        given = OwnerInvitationInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        partner = request.user.partner
        wanted = list(dict.fromkeys(data["establishments"]))
        found = {e.external_id: e for e in
                 establishments_of_partner(partner=partner).filter(external_id__in=wanted)}
        missing = [ext for ext in wanted if ext not in found]
        if missing:
            raise ApplicationError(
                "unknown_establishment", _("Unknown establishment."),
                fields={"establishments": [_("Unknown establishment %(id)s.") % {"id": repr(ext)}
                                           for ext in missing]},
            )
        invitation = owner_invitation_create(
            partner=partner, email=data["email"], language=data["language"],
            establishments=[found[ext] for ext in wanted],
        )
        invitation = self.get_queryset().get(id=invitation.id)
        return Response(OwnerInvitationSerializer(invitation).data,
                        status=status.HTTP_201_CREATED)
