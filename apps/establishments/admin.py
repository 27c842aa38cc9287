"""Establishments and their owners in the admin."""

from django.contrib import admin

from .models import Establishment, OwnerMembership


class MembershipInline(admin.TabularInline):
    model = OwnerMembership
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "city", "country", "partner", "external_id")
    list_filter = ("kind", "country", "partner")
    search_fields = ("name", "=external_id", "city")
    list_select_related = ("partner",)
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("partner", "external_id", "created_at", "updated_at")
    inlines = (MembershipInline,)

    def has_add_permission(self, request) -> bool:
        return False  # partners register establishments through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
