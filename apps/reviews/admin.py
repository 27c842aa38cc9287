"""Reviews and reviewers in the moderator console: read-only (they change by decision)."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.reasons import reason_sentence

from .models import Review, Reviewer


class DeadLetterFilter(admin.SimpleListFilter):
    title = "scoring"
    parameter_name = "scoring"

    def lookups(self, request, model_admin):
        return [("dead", "Dead-lettered (scoring keeps failing)"), ("failing", "Failed attempts")]

    def queryset(self, request, queryset):
        if self.value() == "dead":
            return queryset.filter(dead_lettered_at__isnull=False)
        if self.value() == "failing":
            return queryset.filter(scoring_attempts__gt=0)
        return queryset


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("external_id", "stars", "status", "risk", "establishment", "reviewer",
                    "partner", "created_at", "text_start")
    list_filter = ("status", DeadLetterFilter, "rating", "partner",
                   ("created_at", admin.DateFieldListFilter))
    search_fields = ("=external_id", "reviewer__display_name", "=reviewer__external_id",
                     "establishment__name")
    list_select_related = ("establishment", "reviewer", "partner")
    # A million rows: no full count, no facets, newest first by primary key.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-id",)
    fields = ("external_id", "partner", "establishment", "reviewer", "rating", "title", "text",
              "language", "visit_date", "created_at", "received_at", "status",
              "status_changed_at", "risk_score", "reasons", "scored_at", "cases_list",
              "historical", "model_version", "scoring_attempts", "scoring_error",
              "dead_lettered_at")
    readonly_fields = fields
    actions = ["retry_scoring"]

    @admin.action(description="Retry scoring of the selected dead-lettered reviews")
    def retry_scoring(self, request, queryset):
        from apps.detection.services import scoring_enqueue
        from apps.reviews.services import reviews_retry_dead_lettered

        ids = reviews_retry_dead_lettered(review_ids=list(queryset.values_list("id", flat=True)))
        scoring_enqueue(review_ids=ids)
        self.message_user(request, f"{len(ids)} review(s) sent to scoring again.", messages.INFO)

    @admin.display(description="Rating", ordering="rating")
    def stars(self, review: Review) -> str:
        return "★" * review.rating + "☆" * (5 - review.rating)

    @admin.display(description="Risk", ordering="risk_score")
    def risk(self, review: Review) -> str:
        return "—" if review.risk_score is None else f"{review.risk_score:.2f}"

    @admin.display(description="Text")
    def text_start(self, review: Review) -> str:
        return Truncator(review.text).chars(80)

    @admin.display(description="Reasons")
    def reasons(self, review: Review):
        if not review.risk_reasons:
            return "—"
        return format_html("<ul>{}</ul>", format_html("".join(
            format_html("<li>{} <code>{}</code></li>", reason_sentence(r), r.get("code", ""))
            for r in review.risk_reasons)))

    @admin.display(description="Cases")
    def cases_list(self, review: Review):
        from django.urls import reverse

        links = [format_html('<a href="{}">#{} {}</a>',
                             reverse("admin:cases_case_change", args=[c.pk]), c.pk,
                             c.get_kind_display())
                 for c in review.cases.all()]
        return format_html(", ".join(links)) if links else "—"


@admin.register(Reviewer)
class ReviewerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "external_id", "partner", "flagged", "account_created_at",
                    "created_at")
    list_filter = ("flagged", "partner")
    search_fields = ("display_name", "=external_id")
    list_select_related = ("partner",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-id",)
    # The e-mail is only a keyed hash; it means nothing to a moderator.
    fields = ("external_id", "display_name", "partner", "account_created_at", "flagged",
              "created_at")
    readonly_fields = fields
