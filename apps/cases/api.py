"""API v1: cases, read-only for partners and scoped to their own members."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from apps.core.api import PartnerScopedViewSet
from apps.core.reasons import reasons_payload

from .filters import CaseFilter
from .models import Case
from .selectors import CaseMembers, case_members_seen_by, case_reasons_seen_by, cases_of_partner
from .summaries import case_summary

_EXTERNAL_IDS = {"type": "array", "items": {"type": "string"}}


class CaseListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        cases = list(data.all() if hasattr(data, "all") else data)
        self.child.see_members_of(cases)
        return super().to_representation(cases)


class CaseSerializer(serializers.ModelSerializer):
    # A case as the calling partner sees it: its own members only, read for the
    # whole page at once (``case_members_seen_by``). (A comment, not a docstring:
    # the OpenAPI schema would take it as the Case schema's description.)

    establishments = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()
    reviewers = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = (
            "id", "kind", "status", "severity", "summary", "establishments", "reviews",
            "reviewers", "reasons", "opened_at", "updated_at", "decided_at", "merged_into",
        )
        list_serializer_class = CaseListSerializer

    def see_members_of(self, cases: list[Case]) -> None:
        self._members = case_members_seen_by(cases=cases,
                                             partner=self.context["request"].user.partner)

    def _seen(self, case: Case) -> CaseMembers:
        members = getattr(self, "_members", None)
        if members is None or case.id not in members:
            self.see_members_of([case])
        return self._members[case.id]

    @extend_schema_field(_EXTERNAL_IDS)
    def get_establishments(self, case: Case) -> list[str]:
        return self._seen(case).establishments

    @extend_schema_field(_EXTERNAL_IDS)
    def get_reviews(self, case: Case) -> list[str]:
        return self._seen(case).reviews

    @extend_schema_field(_EXTERNAL_IDS)
    def get_reviewers(self, case: Case) -> list[str]:
        return self._seen(case).reviewers

    def get_reasons(self, case: Case) -> list[dict]:
        """Only what the caller's own reviews show, plus partner-neutral counts,
        when the case is shared with another partner (``case_reasons_seen_by``)."""
        seen = self._seen(case)
        return reasons_payload(case_reasons_seen_by(
            case_reasons=case.reasons, shared=seen.shared,
            own_review_reasons=seen.review_reasons))

    def get_summary(self, case: Case) -> str:
        """Worded now, in the caller's language, from the members the caller sees."""
        seen = self._seen(case)
        return case_summary(kind=case.kind, n_reviews=len(seen.reviews),
                            n_reviewers=len(seen.reviewers),
                            n_establishments=len(seen.establishments))


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerScopedViewSet):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    model = Case

    def scoped(self, partner):
        return cases_of_partner(partner=partner)
