"""Partners and their webhooks in the admin. Secrets never appear: not the API
key hashes, not the webhook signing secret."""

from django.contrib import admin, messages

from apps.core.admin import ReadOnlyAdminMixin

from .models import ApiKey, Partner, WebhookAttempt, WebhookDelivery
from .services import webhook_redeliver


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ("prefix", "label", "created_at", "revoked_at")
    readonly_fields = ("prefix", "label", "created_at", "revoked_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are issued by `manage.py create_partner`, shown once


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "hold_threshold", "webhook_url", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    fields = ("name", "is_active", "hold_threshold", "webhook_url", "scored_events", "created_at")
    readonly_fields = ("created_at",)
    inlines = (ApiKeyInline,)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "webhook_url":
            kwargs["assume_scheme"] = "https"  # webhooks go to HTTPS endpoints
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request) -> bool:
        return False  # `manage.py create_partner` creates the key and the secret

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = ("number", "attempted_at", "status_code", "error", "duration_ms")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "event", "partner", "status", "attempts", "created_at",
                    "next_attempt_at", "delivered_at")
    list_filter = ("status", "event", "partner")
    search_fields = ("=event_id", "dedupe_key")
    list_select_related = ("partner",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ("event_id", "event", "partner", "dedupe_key", "status", "attempts", "created_at",
              "next_attempt_at", "delivered_at", "payload")
    readonly_fields = fields
    inlines = (AttemptInline,)
    actions = ("redeliver",)

    @admin.action(
        description="Re-drive the selected failed deliveries", permissions=("redeliver",)
    )
    def redeliver(self, request, queryset) -> None:
        count = webhook_redeliver(delivery_ids=list(queryset.values_list("id", flat=True)))
        messages.success(request, f"{count} failed deliveries re-driven (others left as they were).")

    def has_redeliver_permission(self, request) -> bool:
        return request.user.has_perm("partners.redeliver_webhookdelivery")
