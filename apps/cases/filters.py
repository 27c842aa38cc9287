"""Case filters, declared once for the API and the moderator admin."""

import django_filters
from django.db.models import Q

from apps.core.filters import UtcIsoDateTimeFilter

from .models import Case


class CaseFilter(django_filters.FilterSet):
    # A partner's external_id: matched among the calling partner's own
    # establishments only, so a shared case never reveals that another
    # partner uses the same id.
    establishment = django_filters.CharFilter(method="filter_establishment")
    created_after = UtcIsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ("kind", "status", "establishment")

    def filter_establishment(self, queryset, name, value):
        match = Q(establishments__external_id=value)
        partner = getattr(getattr(self.request, "user", None), "partner", None)
        if partner is not None:
            match &= Q(establishments__partner=partner)
        return queryset.filter(match).distinct()
