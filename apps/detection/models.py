"""A record of each batch detection run: what ran, how long, what it found."""

from django.db import models


class DetectionRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    model_versions = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.status} at {self.started_at:%Y-%m-%d %H:%M}"


class TextBand(models.Model):
    """One LSH band key of a review's text (ml.text.lsh_band_keys): the persistent
    near-duplicate index. A new text's candidates are the reviews sharing a key,
    found by an indexed lookup instead of comparing with the whole table."""

    review_id = models.BigIntegerField()
    reviewer_id = models.BigIntegerField()
    key = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["key", "created_at"], name="textband_key"),
            models.Index(fields=["review_id"], name="textband_review"),
        ]

    def __str__(self) -> str:
        return f"band {self.key} of review {self.review_id}"
