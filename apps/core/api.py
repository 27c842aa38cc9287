"""The base of every partner-facing viewset: scoped to the calling partner in one place.

As NetBox's ``BaseViewSet.initial()`` narrows the queryset before any handler
runs, ``PartnerScopedViewSet.get_queryset`` asks the subclass's ``scoped``
selector for the calling partner's objects only: another partner's object is
simply not there, so it answers 404 with no check in each view. The schema
generator, which has no partner, sees an empty queryset of the right model.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets


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
        # be built, with its form, to apply nothing (~1.5 ms of CPU a read).
        if self.detail and not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)
