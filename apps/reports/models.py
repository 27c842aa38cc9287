"""Threat reports filed by owners (or relayed by partners), their evidence and
their links to the reviews written by the guest they name.

Guest identifiers other than the name are kept only as keyed hashes, exactly
like reviewers' (apps.reviews.pii), so a report and a review meet on the hash.
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.cases.models import Case
from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review


class ThreatReport(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")
        PLATFORM_MESSAGE = "platform_message", _("Platform message")
        SOCIAL = "social", _("Social media")
        OTHER = "other", _("Other")

    class Demand(models.TextChoices):
        REFUND = "refund", _("Refund")
        FREE_SERVICE = "free_service", _("Free service")
        UPGRADE = "upgrade", _("Upgrade")
        MONEY = "money", _("Money")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # filed, no review of the guest found (yet)
        LINKED = "linked", _("Linked")  # reviews of the guest found, waiting for a moderator
        CONFIRMED = "confirmed", _("Confirmed")  # a moderator confirmed the extortion
        DISMISSED = "dismissed", _("Dismissed")  # a moderator found no extortion

    UNDECIDED = (Status.OPEN, Status.LINKED)

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="threat_reports")
    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="threat_reports"
    )
    # The owner who filed it in the portal; null when a partner relayed it.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="threat_reports",
    )
    guest_name = models.CharField(max_length=200, blank=True)
    # Folded, sorted name tokens: how reports of one guest find each other.
    guest_name_key = models.CharField(max_length=200, blank=True, db_index=True)
    guest_email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    guest_booking_ref_hash = models.CharField(max_length=64, blank=True, db_index=True)
    guest_handle_hash = models.CharField(max_length=64, blank=True, db_index=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    message_text = models.TextField()
    demand = models.CharField(max_length=20, choices=Demand.choices)
    received_at = models.DateTimeField(help_text="When the owner received the threat.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    linked_at = models.DateTimeField(
        null=True, blank=True, help_text="When linkage first ran for this report."
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of what was reported (establishment, guest identifiers, channel,
    # message, demand, time, evidence digests): the same report sent twice is
    # answered with the one already filed.
    content_hash = models.CharField(max_length=64, blank=True, default="")

    reviews = models.ManyToManyField(
        Review, through="ReportReviewLink", related_name="threat_reports", blank=True
    )
    cases = models.ManyToManyField(Case, related_name="threat_reports", blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["establishment", "received_at"], name="report_by_establishment"),
            models.Index(fields=["status", "linked_at"], name="report_link_sweep"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["partner", "content_hash"],
                                    condition=~models.Q(content_hash=""),
                                    name="report_once_per_content"),
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk} at {self.establishment} ({self.status})"

    @property
    def is_decided(self) -> bool:
        return self.status in (self.Status.CONFIRMED, self.Status.DISMISSED)


class ReportReviewLink(models.Model):
    """A review written by the guest a report names, and how we know."""

    report = models.ForeignKey(ThreatReport, on_delete=models.CASCADE, related_name="links")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="report_links")
    methods = models.CharField(max_length=64, help_text="email, booking_ref, handle, name")
    name_score = models.FloatField(null=True, blank=True)
    strength = models.FloatField(default=0.0, help_text="Credibility-weighted link score, 0..1")
    # True when this report is why the review was held.
    held = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["report", "review"]
        constraints = [
            models.UniqueConstraint(fields=["report", "review"], name="report_review_link_once")
        ]

    def __str__(self) -> str:
        return f"report #{self.report_id} -> review {self.review_id} ({self.methods})"


def _evidence_path(instance: "ThreatEvidence", filename: str) -> str:
    # Never trust the uploaded name in a path: a random name, the checked extension.
    suffix = PurePath(filename).suffix.lower()
    return f"evidence/{instance.report.establishment_id}/{uuid.uuid4().hex}{suffix}"


class ThreatEvidence(models.Model):
    """A file backing a report (screenshot, PDF, saved e-mail), outside the web root."""

    report = models.ForeignKey(ThreatReport, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=_evidence_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "id"]
        verbose_name_plural = "threat evidence"

    def __str__(self) -> str:
        return self.original_name

    @property
    def preview(self) -> str:
        """How a moderator sees it in the page: "image", "pdf", or "download" (.eml)."""
        if self.content_type.startswith("image/"):
            return "image"
        if self.content_type == "application/pdf":
            return "pdf"
        return "download"


class EvidenceAccess(models.Model):
    """Append-only: who opened which evidence file, from where, when."""

    class Via(models.TextChoices):
        ADMIN = "admin", _("Moderation console")
        PORTAL = "portal", _("Owner portal")

    evidence = models.ForeignKey(ThreatEvidence, on_delete=models.CASCADE,
                                 related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    # The case page it was opened from, when a moderator opened it.
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    via = models.CharField(max_length=16, choices=Via.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "evidence accesses"
        indexes = [models.Index(fields=["evidence", "at"], name="evidence_access_by_file")]

    def __str__(self) -> str:
        return f"{self.user} opened evidence #{self.evidence_id} ({self.via})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("Evidence accesses are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Evidence accesses are append-only.")


class Notification(models.Model):
    """Something an owner should know about one of their reports.

    Stored as a kind and values, worded when read (portal) or sent (e-mail),
    in the reader's language. ``dedupe_key`` makes each event notify each owner
    once, however often linkage or a decision runs.
    """

    class Kind(models.TextChoices):
        REVIEW_HELD = "review_held", _("A review was held")
        REPORT_DECIDED = "report_decided", _("A report was decided")
        APPEAL_DECIDED = "appeal_decided", _("An appeal was decided")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    report = models.ForeignKey(ThreatReport, on_delete=models.CASCADE,
                               related_name="notifications")
    review = models.ForeignKey(Review, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    values = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notify_once")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user} (report #{self.report_id})"
