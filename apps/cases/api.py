"""API v1: cases, read-only for partners and scoped to their own members."""

from rest_framework import mixins, serializers

from apps.core.api import PartnerScopedViewSet
from apps.core.reasons import reasons_payload

from .filters import CaseFilter
from .models import Case
from .selectors import case_reasons_seen_by, cases_of_partner
from .summaries import case_summary


class CaseSerializer(serializers.ModelSerializer):
    establishments = serializers.SlugRelatedField(many=True, read_only=True, slug_field="external_id")
    reviews = serializers.SlugRelatedField(many=True, read_only=True, slug_field="external_id")
    reviewers = serializers.SlugRelatedField(many=True, read_only=True, slug_field="external_id")
    reasons = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = (
            "id", "kind", "status", "severity", "summary", "establishments", "reviews",
            "reviewers", "reasons", "opened_at", "updated_at", "decided_at", "merged_into",
        )

    def get_reasons(self, case: Case) -> list[dict]:
        """Only what the caller's own reviews show, plus partner-neutral counts,
        when the case is shared with another partner (``case_reasons_seen_by``)."""
        return reasons_payload(case_reasons_seen_by(
            case_reasons=case.reasons, shared=len(case.partners.all()) > 1,
            own_review_reasons=(r.risk_reasons for r in case.reviews.all())))

    def get_summary(self, case: Case) -> str:
        """Worded now, in the caller's language, from the members the caller sees."""
        return case_summary(kind=case.kind, n_reviews=len(case.reviews.all()),
                            n_reviewers=len(case.reviewers.all()),
                            n_establishments=len(case.establishments.all()))


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerScopedViewSet):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    model = Case

    def scoped(self, partner):
        return cases_of_partner(partner=partner)
