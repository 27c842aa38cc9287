from django.contrib import admin

from .models import ReportReviewLink, ThreatEvidence, ThreatReport


class LinkInline(admin.TabularInline):
    model = ReportReviewLink
    extra = 0
    raw_id_fields = ("review",)
    readonly_fields = ("methods", "name_score", "strength", "held", "created_at")


class EvidenceInline(admin.TabularInline):
    model = ThreatEvidence
    extra = 0
    readonly_fields = ("original_name", "content_type", "size", "sha256", "uploaded_at")
    exclude = ("file",)


@admin.register(ThreatReport)
class ThreatReportAdmin(admin.ModelAdmin):
    list_display = ("id", "establishment", "partner", "guest_name", "demand", "channel",
                    "status", "received_at")
    list_filter = ("status", "demand", "channel", "partner")
    search_fields = ("guest_name", "establishment__name", "establishment__external_id")
    raw_id_fields = ("establishment", "reporter")
    readonly_fields = ("guest_name_key", "guest_email_hash", "guest_booking_ref_hash",
                       "guest_handle_hash", "created_at", "updated_at", "linked_at", "decided_at")
    filter_horizontal = ("cases",)
    inlines = (LinkInline, EvidenceInline)
    date_hierarchy = "received_at"
