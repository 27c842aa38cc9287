"""Filter pieces shared by the API's FilterSets: values checked before they reach SQL."""

from __future__ import annotations

import datetime as dt
import math

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


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


class FiniteDecimalField(forms.DecimalField):
    """A number a float column can be compared with: finite, within ±1e300."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and (not math.isfinite(float(value)) or abs(value) > 10**300):
            raise forms.ValidationError("Out of range.", code="invalid")
        return value


class FiniteNumberFilter(django_filters.NumberFilter):
    field_class = FiniteDecimalField
