"""Case filters, declared once for the API and the moderator admin."""

import django_filters

from .models import Case


class CaseFilter(django_filters.FilterSet):
    establishment = django_filters.CharFilter(
        field_name="establishments__external_id", distinct=True
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ("kind", "status", "establishment")
