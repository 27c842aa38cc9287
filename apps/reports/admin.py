"""Threat reports, their evidence and the evidence access log in the admin."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyAdminMixin

from .evidence import evidence_file_response
from .models import EvidenceAccess, ReportReviewLink, ThreatEvidence, ThreatReport
from .selectors import evidence_get, evidence_of_case
from .services import evidence_access_record


def evidence_url(evidence_id: int, *, case_id: int | None = None) -> str:
    url = reverse("admin:reports_threatevidence_file", args=[evidence_id])
    return f"{url}?case={case_id}" if case_id else url


class LinkInline(admin.TabularInline):
    model = ReportReviewLink
    extra = 0
    raw_id_fields = ("review",)
    readonly_fields = ("methods", "name_score", "strength", "held", "created_at")


class EvidenceInline(admin.TabularInline):
    model = ThreatEvidence
    extra = 0
    fields = ("open_link", "content_type", "size", "sha256", "uploaded_at")
    readonly_fields = fields

    @admin.display(description=_("file"))
    def open_link(self, evidence: ThreatEvidence):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>',
                           evidence_url(evidence.pk), evidence.original_name)

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # evidence arrives with the report, from the owner or the partner

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
        return [
            path("evidence/<int:evidence_id>/", self.admin_site.admin_view(self.evidence_view),
                 name="reports_threatevidence_file"),
            *super().get_urls(),
        ]

    def evidence_view(self, request, evidence_id: int):
        """Open an evidence file (inline preview or download), and log who did.

        From a case page (``?case=<id>``) only that case's evidence opens, and
        the log records the case.
        """
        if not request.user.has_perm("reports.view_threatevidence"):
            raise PermissionDenied
        case_id = request.GET.get("case", "")
        if case_id.isdigit():
            evidence = evidence_of_case(case_id=int(case_id), evidence_id=evidence_id)
        else:
            case_id, evidence = "", evidence_get(evidence_id=evidence_id)
        if evidence is None:
            raise Http404("No such evidence")
        evidence_access_record(evidence=evidence, user=request.user,
                               via=EvidenceAccess.Via.ADMIN,
                               case_id=int(case_id) if case_id else None)
        return evidence_file_response(evidence, frame=True)


@admin.register(EvidenceAccess)
class EvidenceAccessAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "evidence", "report_link", "case", "via")
    list_filter = ("via", ("at", admin.DateFieldListFilter))
    search_fields = ("user__username", "user__email", "=evidence__report__id", "=case__id")
    list_select_related = ("user", "evidence", "case")
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("report"), ordering="evidence__report_id")
    def report_link(self, access: EvidenceAccess):
        return format_html('<a href="{}">#{}</a>',
                           reverse("admin:reports_threatreport_change",
                                   args=[access.evidence.report_id]),
                           access.evidence.report_id)
