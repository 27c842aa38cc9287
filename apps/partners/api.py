"""API v1: a partner's own webhook deliveries, and re-driving the failed ones.

A delivery is ``failed`` once its retry schedule (about a day) ran out; the
partner, once its receiver is back, re-drives it here with a fresh schedule,
as a moderator can in the admin. Another partner's deliveries answer 404.
"""

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import PartnerScopedViewSet
from apps.core.openapi import error_responses

from .filters import WebhookDeliveryFilter
from .models import WebhookDelivery
from .selectors import webhook_deliveries_of_partner
from .services import REDELIVER_MAX, webhook_redeliver_failed, webhook_redeliver_one


class WebhookAttemptSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="last_attempted_at")
    status_code = serializers.IntegerField(source="last_status_code", allow_null=True,
                                           help_text="The receiver's status, if it answered.")
    error = serializers.CharField(source="last_error", allow_blank=True,
                                  help_text="Why the attempt failed; empty when it succeeded.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    last_attempt = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = ("id", "event_id", "event", "status", "attempts", "created_at",
                  "next_attempt_at", "delivered_at", "last_attempt", "payload")

    @extend_schema_field(WebhookAttemptSerializer(allow_null=True))
    def get_last_attempt(self, delivery: WebhookDelivery) -> dict | None:
        if getattr(delivery, "last_attempted_at", None) is None:
            return None
        return WebhookAttemptSerializer(delivery).data


RedeliverAllSerializer = inline_serializer(
    name="WebhookRedeliverAll",
    fields={
        "redriven": serializers.IntegerField(help_text="Failed deliveries now pending again."),
        "remaining_failed": serializers.IntegerField(
            help_text=f"Failed deliveries left (at most {REDELIVER_MAX} are re-driven a call)."),
    },
)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             PartnerScopedViewSet):
    """The calling partner's webhook deliveries, newest first."""

    lookup_value_regex = r"[0-9]{1,18}"  # an id; anything else is simply not found
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    model = WebhookDelivery

    def scoped(self, partner):
        return webhook_deliveries_of_partner(partner=partner)

    @extend_schema(
        operation_id="webhook_deliveries_redeliver",
        request=None,
        responses={202: WebhookDeliverySerializer, **error_responses(
            401, 404, 409, descriptions={
                409: "`delivery_not_failed`: only a failed delivery can be re-driven "
                     "(a pending one is still being retried, a delivered one arrived)."})},
        description=(
            "Re-drive one failed delivery: it is pending again, with a fresh retry schedule "
            "(about a day) whose first attempt is now. Earlier attempts stay counted."
        ),
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = self.get_object()
        webhook_redeliver_one(delivery=delivery)
        # Read again through the scoped queryset: the new state with its last attempt.
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        operation_id="webhook_deliveries_redeliver_failed",
        request=None,
        responses={202: RedeliverAllSerializer, **error_responses(401)},
        description=(
            f"Re-drive the calling partner's failed deliveries, oldest first, up to "
            f"{REDELIVER_MAX} a call (`remaining_failed` says how many are left)."
        ),
    )
    @action(detail=False, methods=["post"], url_path="redeliver")
    def redeliver_failed(self, request):
        redriven, remaining = webhook_redeliver_failed(partner=request.user.partner)
        return Response({"redriven": redriven, "remaining_failed": remaining},
                        status=status.HTTP_202_ACCEPTED)
