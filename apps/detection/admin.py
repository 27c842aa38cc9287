"""Detection runs in the admin: read-only records of what each batch did."""

import json

from django.contrib import admin
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdminMixin

from .models import DetectionRun, ScoringModel


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


@admin.register(ScoringModel)
class ScoringModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every refit from moderators' decisions, adopted or not, with what changed."""

    list_display = ("version", "created_at", "active", "adopted", "n_decisions",
                    "heldout_ap", "in_use_ap", "note")
    list_filter = ("active", "adopted")
    ordering = ("-created_at",)
    fields = ("version", "created_at", "active", "adopted", "n_decisions", "note",
              "weights_changed", "heldout", "baseline")
    readonly_fields = fields

    @admin.display(description="Held-out AP")
    def heldout_ap(self, row: ScoringModel):
        return row.heldout.get("ap", "—")

    @admin.display(description="AP of the model in use")
    def in_use_ap(self, row: ScoringModel):
        return row.baseline.get("ap", "—")

    @admin.display(description="Weights (built-in → this model)")
    def weights_changed(self, row: ScoringModel):
        from ml.calibration import current_fusion_weights

        model = json.loads(row.model) if isinstance(row.model, str) else row.model
        built_in, bias = current_fusion_weights()
        lines = [f"bias: {bias:.2f} → {model.get('bias', bias):.2f}"] + [
            f"{code}: {built_in.get(code, 0.0):.2f} → {weight:.2f}"
            for code, weight in sorted(model.get("weights", {}).items())
            if abs(weight - built_in.get(code, 0.0)) > 1e-3
        ]
        return format_html("<pre>{}</pre>", "\n".join(lines))
