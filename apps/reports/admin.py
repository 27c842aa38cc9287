from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html

from .evidence import evidence_file_response
from .models import ReportReviewLink, ThreatEvidence, ThreatReport
from .selectors import evidence_for_moderator


class LinkInline(admin.TabularInline):
    model = ReportReviewLink
    extra = 0
    raw_id_fields = ("review",)
    readonly_fields = ("methods", "name_score", "strength", "held", "created_at")


class EvidenceInline(admin.TabularInline):
    model = ThreatEvidence
    extra = 0
    readonly_fields = ("download", "original_name", "content_type", "size", "sha256",
                       "uploaded_at")
    exclude = ("file",)

    @admin.display(description="file")
    def download(self, obj) -> str:
        if not obj.pk:
            return ""
        url = reverse("admin:reports_threatevidence_download", args=[obj.pk])
        return format_html('<a href="{}">open</a>', url)


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

    def get_urls(self):
        download = self.admin_site.admin_view(self.evidence_download_view)
        return [
            path("evidence/<int:pk>/", download, name="reports_threatevidence_download"),
            *super().get_urls(),
        ]

    def evidence_download_view(self, request, pk: int):
        """An evidence file, for admin users with ``reports.view_threatevidence``."""
        evidence = evidence_for_moderator(user=request.user, evidence_id=pk)
        if evidence is None:
            raise Http404("No such evidence")
        return evidence_file_response(evidence)
