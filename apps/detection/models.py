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


class ErasureEvent(models.Model):
    """One erasure of reviews' personal data (``manage.py erase_reviewer``): when,
    and how many reviews. No identifier of the person is kept.

    Scoring processes keep the review rows they read recently
    (``apps.detection.rowcache``); they are valid only while no erasure happened
    since they were read, which the latest event's id tells in one indexed read.
    """

    at = models.DateTimeField(auto_now_add=True)
    reviews = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"erasure #{self.pk} of {self.reviews} reviews at {self.at:%Y-%m-%d %H:%M}"


class ScoringModel(models.Model):
    """A version of the fusion weights and hold thresholds refitted from moderators'
    decisions (``manage.py calibrate``), with its held-out figures.

    At most one is active: scoring uses its weights, and its per-partner
    thresholds where a partner set none of its own. A refit is kept whether or
    not it was adopted, so the admin shows what changed and why.
    """

    version = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=False)
    adopted = models.BooleanField(default=False, help_text="Not worse than the model in use.")
    n_decisions = models.PositiveIntegerField(default=0)
    model = models.JSONField(help_text="ml.calibration.CalibrationModel, as JSON.")
    heldout = models.JSONField(default=dict, blank=True)
    baseline = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True),
                                    name="one_active_scoring_model")
        ]

    def __str__(self) -> str:
        return f"model {self.version}{' (active)' if self.active else ''}"
