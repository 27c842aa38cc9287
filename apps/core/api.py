"""The base of every partner-facing viewset: scoped to the calling partner in one place.

As NetBox's ``BaseViewSet.initial()`` narrows the queryset before any handler
runs, ``PartnerScopedViewSet.get_queryset`` asks the subclass's ``scoped``
selector for the calling partner's objects only: another partner's object is
simply not there, so it answers 404 with no check in each view. The schema
generator, which has no partner, sees an empty queryset of the right model.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.fields import SkipField


class PartnerScopedViewSet(viewsets.GenericViewSet):
    #: The model, for the schema generator (it calls get_queryset with no partner).
    model = None

    def scoped(self, partner) -> QuerySet:  # pragma: no cover - abstract
        """The calling partner's objects: a selector of the owning app."""
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.scoped(self.request.user.partner)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # One object by its id with no query string: the list's FilterSet would
        # be built, with its form, to apply nothing (0.44 ms of CPU a read).
        if self.detail and not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)


# A serializer mixin: output fields built once per class, not for every object.
#
# DRF builds a serializer's fields for each instance it makes: a ModelSerializer
# introspects the model and deep-copies every field: 0.29 ms of CPU to turn one
# review into its answer, 0.03 ms with the fields built once (bench/RESULTS.md, issue 14). Output needs none of that per object:
# the fields of one prototype convert every object the way DRF's own
# ``to_representation`` does (attribute, None stays None, else the field's
# ``to_representation``), and method fields are called on the serializer at
# hand, so they see its context. Input, validation and the OpenAPI schema use
# DRF's fields unchanged. (Comments, not a docstring: drf-spectacular would
# publish a docstring as the description of every schema using the mixin.)
class FieldsBuiltOnce:
    @classmethod
    def _output_plan(cls) -> list[tuple[str, serializers.Field, object]]:
        plan = cls.__dict__.get("_plan")
        if plan is None:
            # Built under the GIL by whichever thread comes first; a twin is harmless.
            plan = [
                (name, field,
                 getattr(cls, field.method_name)
                 if isinstance(field, serializers.SerializerMethodField) else None)
                for name, field in cls().fields.items() if not field.write_only
            ]
            cls._plan = plan
        return plan

    def to_representation(self, instance) -> dict:
        out = {}
        for name, field, method in self._output_plan():
            if method is not None:
                out[name] = method(self, instance)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            out[name] = None if attribute is None else field.to_representation(attribute)
        return out
