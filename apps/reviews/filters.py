"""Review filters, shared by the API (and the admin)."""

import django_filters

from .models import Review


class ReviewFilter(django_filters.FilterSet):
    establishment = django_filters.CharFilter(field_name="establishment__external_id")
    reviewer = django_filters.CharFilter(field_name="reviewer__external_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_risk = django_filters.NumberFilter(field_name="risk_score", lookup_expr="gte")

    class Meta:
        model = Review
        fields = ("status", "establishment", "reviewer", "rating")
