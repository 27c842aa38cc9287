"""Detection runs in the admin: read-only records of what each batch did."""

import json

from django.contrib import admin
from django.utils.html import format_html

from .models import DetectionRun


@admin.register(DetectionRun)
class DetectionRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "started_at", "duration", "reviews", "findings",
                    "reading_vs_detecting", "peak_memory")
    list_filter = ("status", ("started_at", admin.DateFieldListFilter))
    ordering = ("-started_at",)
    fields = ("status", "started_at", "finished_at", "error", "parameters_json", "counts_json",
              "metrics_json", "model_versions_json")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Duration")
    def duration(self, run: DetectionRun) -> str:
        seconds = run.metrics.get("seconds_total")
        return "—" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="Reviews")
    def reviews(self, run: DetectionRun):
        return run.counts.get("reviews", "—")

    @admin.display(description="Findings")
    def findings(self, run: DetectionRun):
        return run.counts.get("findings", "—")

    @admin.display(description="Reading / detecting")
    def reading_vs_detecting(self, run: DetectionRun) -> str:
        m = run.metrics
        if "seconds_reading" not in m or "seconds_detecting" not in m:
            return "—"
        return f"{m['seconds_reading']:.1f} s / {m['seconds_detecting']:.1f} s"

    @admin.display(description="Peak memory")
    def peak_memory(self, run: DetectionRun) -> str:
        mb = run.metrics.get("peak_memory_mb")
        return "—" if mb is None else f"{mb:.0f} MB"

    @staticmethod
    def _json(value):
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True,
                                                      ensure_ascii=False))

    @admin.display(description="Parameters")
    def parameters_json(self, run: DetectionRun):
        return self._json(run.parameters)

    @admin.display(description="Counts")
    def counts_json(self, run: DetectionRun):
        return self._json(run.counts)

    @admin.display(description="Metrics")
    def metrics_json(self, run: DetectionRun):
        return self._json(run.metrics)

    @admin.display(description="Model versions")
    def model_versions_json(self, run: DetectionRun):
        return self._json(run.model_versions)
