"""Reviewers and reviews. Personal identifiers are stored only as keyed hashes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.establishments.models import Establishment
from apps.partners.models import Partner


class Reviewer(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="reviewers")
    external_id = models.CharField(max_length=100)
    # A public handle, shown on the partner's site: not secret.
    display_name = models.CharField(max_length=100, blank=True)
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    account_created_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False, help_text="Confirmed by a moderator as abusive.")
    # The reviewer's rank (0..1) in the last reconciliation's anomaly ensemble, kept
    # only for the top of the ranking: a corroborating signal for live scoring.
    anomaly_rank = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="reviewer_external_id_per_partner"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.external_id


#: The highest rating the burst detector counts as negative
#: (ml.bursts.BurstDetector ``negative_max_rating``): the partial index
#: ``review_negative_by_place`` holds exactly these reviews.
NEGATIVE_MAX_RATING = 2


class Review(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # accepted, not yet scored
        PUBLISHED = "published", _("Published")
        HELD = "held", _("Held")  # waiting for a moderator; never removed automatically
        REMOVED = "removed", _("Removed")  # only by a moderator's decision

    # What the guest wrote and where from (partner, establishment, reviewer, rating,
    # title, text, created_at, the identifier hashes) never changes once stored,
    # except by erasure (apps/reviews/erasure.py, recorded by
    # apps.detection.erasure): scoring processes keep these rows between batches
    # (apps/detection/rowcache.py). Code that changes them otherwise must record
    # an erasure too. Status, risk and the other scoring columns change freely.

    # No single-column index on the foreign keys, nor on status: the composite
    # indexes of Meta lead with them. Every index is written by each insert and by
    # each verdict (status is indexed, so a verdict is never a HOT update): at a
    # million reviews, 19 indexes made the verdicts' UPDATE cost 0.4 ms a review.
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="reviews",
                                db_index=False)
    external_id = models.CharField(max_length=100)
    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="reviews", db_index=False
    )
    reviewer = models.ForeignKey(Reviewer, on_delete=models.CASCADE, related_name="reviews",
                                 db_index=False)
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    visit_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(help_text="When the guest wrote it (partner's clock).")
    received_at = models.DateTimeField(auto_now_add=True)
    # Per-review observations of the reviewer's connection, hashed. Live detection
    # looks reviews up by device and IP (Meta.indexes: plain b-trees, no LIKE
    # twin); the /24 and the booking are only read.
    ip_hash = models.CharField(max_length=64, blank=True)
    ip24_hash = models.CharField(max_length=64, blank=True)
    device_hash = models.CharField(max_length=64, blank=True)
    booking_ref_hash = models.CharField(max_length=64, blank=True)
    # HMAC of the canonical payload: equal payload -> 200, different -> 409.
    payload_hash = models.CharField(max_length=64)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    risk_score = models.FloatField(null=True, blank=True)
    # [{"code", "score", "en", "fr"}], strongest first.
    risk_reasons = models.JSONField(default=list, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The calibrated scoring model that decided it ("" : the built-in weights).
    model_version = models.CharField(max_length=64, blank=True, default="", db_default="")
    # Imported history (a partner's backfill): scored in bulk, no webhook per review.
    historical = models.BooleanField(default=False, db_default=False)
    # Scoring that failed for a reason other than the database: counted, and after
    # SCORING_MAX_ATTEMPTS the review is dead-lettered (visible in the admin, no
    # longer swept) until someone retries it.
    scoring_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    scoring_error = models.TextField(blank=True, default="", db_default="")
    dead_lettered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="review_external_id_per_partner"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "enqueued_at"], name="review_pending_sweep"),
            # Covering the live neighbourhood's reads of each touched establishment's
            # most recent reviews (ids, and reviewers for lockstep): index-only once
            # vacuumed. 0.63 s -> 0.02 s for 200 places' 200 rows at a million reviews.
            models.Index(fields=["establishment", "created_at"], include=["reviewer", "id"],
                         name="review_by_establishment"),
            models.Index(fields=["reviewer", "created_at"], name="review_by_reviewer"),
            models.Index(fields=["device_hash"], name="review_by_device"),
            models.Index(fields=["ip_hash"], name="review_by_ip"),
            # The burst baseline: each touched establishment's negative reviews over
            # 93 days, read by every live scoring batch. Index-only (id included):
            # 0.21 s -> 0.015 s for 200 flooded places at a million reviews, where
            # the plain index fetched ~46,000 heap pages to keep one row in seven.
            models.Index(fields=["establishment", "created_at"], include=["id"],
                         name="review_negative_by_place",
                         condition=models.Q(rating__lte=NEGATIVE_MAX_RATING)),
            # The scoring queue: what a scoring batch may take besides its own ids.
            models.Index(fields=["historical", "id"], name="review_scoring_queue",
                         condition=models.Q(status="pending", dead_lettered_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.rating}★, {self.status})"
