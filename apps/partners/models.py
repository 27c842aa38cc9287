"""Partners (review platforms, booking sites), their API keys and webhooks."""

import uuid

from django.db import models

from .webhooks import validate_webhook_url


class Partner(models.Model):
    class ScoredEvents(models.TextChoices):
        PER_REVIEW = "per_review", "One review.status_changed per scored review"
        BATCHED = "batched", "One reviews.scored per scoring batch (up to 1,000 reviews)"

    name = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    # Per-partner override of settings.REVIEW_HOLD_THRESHOLD (risk in [0, 1]).
    hold_threshold = models.FloatField(null=True, blank=True)
    # Public https only, unless WEBHOOK_ALLOW_PRIVATE_URLS (local development).
    webhook_url = models.URLField(blank=True, validators=[validate_webhook_url])
    # Kept in clear: signing needs it. Shown to the partner once, like a key.
    webhook_secret = models.CharField(max_length=128, blank=True)
    # How first verdicts are announced; a moderator's decisions always go one by one.
    scored_events = models.CharField(
        max_length=16, choices=ScoredEvents.choices, default=ScoredEvents.PER_REVIEW,
        db_default=ScoredEvents.PER_REVIEW,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hold_threshold__isnull=True)
                | models.Q(hold_threshold__gte=0, hold_threshold__lte=1),
                name="partner_hold_threshold_in_unit_interval",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """An API key, stored as SHA-256 of its secret part; the key itself is shown once."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.partner} {self.prefix}…"


class WebhookDelivery(models.Model):
    """One event owed to a partner; attempted until delivered or out of attempts."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=64)
    # Makes emitting idempotent: one decision never produces two deliveries.
    dedupe_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # ``attempts`` when a moderator last re-drove it: the retry schedule
    # starts over from there.
    redriven_after = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        permissions = [("redeliver_webhookdelivery", "Can re-drive failed webhook deliveries")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} -> {self.partner} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
