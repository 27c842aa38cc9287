"""Case filters, declared once for the API and the moderator admin."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from .models import Case


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned to UTC before it reaches the database
    (PostgreSQL refuses offsets past ±15:59; year 1 at +23:59 overflows)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("Out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField



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
