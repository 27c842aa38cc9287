"""API v1: cases, read-only for partners and scoped to their own members."""

from rest_framework import serializers, viewsets

from apps.reviews.api import reasons_for_language

from .filters import CaseFilter
from .models import Case
from .selectors import cases_of_partner


class CaseSerializer(serializers.ModelSerializer):
    establishments = serializers.SlugRelatedField(many=True, read_only=True, slug_field="external_id")
    reviews = serializers.SlugRelatedField(many=True, read_only=True, slug_field="external_id")
    reviewers = serializers.SlugRelatedField(many=True, read_only=True, slug_field="external_id")
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = (
            "id", "kind", "status", "severity", "summary", "establishments", "reviews",
            "reviewers", "reasons", "opened_at", "updated_at", "decided_at",
        )

    def get_reasons(self, case: Case) -> list[dict]:
        return reasons_for_language(case.reasons)


class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter

    queryset = Case.objects.none()  # for the schema generator

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return cases_of_partner(partner=self.request.user.partner)
