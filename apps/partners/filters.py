"""Webhook delivery filters for the partner API."""

import django_filters

from .models import WebhookDelivery


class WebhookDeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ("status", "event")
