"""Review filters, shared by the API (and the admin)."""

import django_filters

from apps.core.filters import FiniteNumberFilter, UtcIsoDateTimeFilter

from .models import Review


class ReviewFilter(django_filters.FilterSet):
    establishment = django_filters.CharFilter(field_name="establishment__external_id")
    reviewer = django_filters.CharFilter(field_name="reviewer__external_id")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_risk = FiniteNumberFilter(field_name="risk_score", lookup_expr="gte")

    class Meta:
        model = Review
        fields = ("status", "establishment", "reviewer", "rating")
