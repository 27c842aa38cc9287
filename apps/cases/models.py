"""Cases (findings a moderator decides on) and their append-only audit trail."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review, Reviewer


class Case(models.Model):
    class Kind(models.TextChoices):
        EXTORTION = "extortion", _("Extortion")
        SOCK_PUPPET_RING = "sock_puppet_ring", _("Sock-puppet ring")
        REVIEW_BOMBING = "review_bombing", _("Review bombing")
        ANOMALOUS_REVIEWER = "anomalous_reviewer", _("Anomalous reviewer")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")
        # Joined another case of the same incident (``merged_into``): its reviews,
        # reviewers and members are that case's now; decide that one.
        MERGED = "merged", _("Merged")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # Kind + sorted member keys, hashed: a re-run finds the same case instead
    # of opening a twin.
    fingerprint = models.CharField(max_length=64, unique=True)
    severity = models.FloatField(default=0.0, help_text="0 (low) .. 1 (high)")
    # [{"code", "score", "en", "fr"}], strongest first.
    reasons = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    # Cases may span partners (a serial extortionist, a cross-partner ring);
    # each partner sees the case through its own members.
    partners = models.ManyToManyField(Partner, related_name="cases")
    establishments = models.ManyToManyField(Establishment, related_name="cases", blank=True)
    reviews = models.ManyToManyField(Review, related_name="cases", blank=True)
    reviewers = models.ManyToManyField(Reviewer, related_name="cases", blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decided_cases",
    )
    decision_note = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases"
    )

    class Meta:
        ordering = ["-severity", "-opened_at"]
        indexes = [models.Index(fields=["status", "kind", "-severity"], name="case_queue")]
        # "change" covers assigning; deciding is its own right, and deciding many
        # cases at once (one note for all) is kept for senior moderators.
        permissions = [
            ("decide_case", "Can confirm or dismiss a case"),
            ("bulk_decide_case", "Can confirm or dismiss cases in bulk"),
            ("decide_appeal", "Can decide an appeal against another moderator's decision"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.status})"


class CaseEvent(models.Model):
    """Append-only audit: who did what to a case, when, with before and after."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    action = models.CharField(max_length=32)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} case #{self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("Case events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Case events are append-only.")


class CaseMember(models.Model):
    """One member key of a case ("reviewer:12", "review:345"): how a re-run of a
    detector finds the case it already opened, even when the finding has grown."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="member_keys")
    key = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], name="case_member_once")
        ]
        indexes = [models.Index(fields=["key"], name="case_member_key")]

    def __str__(self) -> str:
        return f"{self.key} in case #{self.case_id}"


class DecisionLabel(models.Model):
    """A moderator's decision kept as a labelled example for later calibration.

    ``features`` is a snapshot of what the detectors saw when the case was
    decided (severity, reason scores, sizes), so it stays meaningful after the
    case's reviews change status.
    """

    class Label(models.TextChoices):
        CONFIRMED = "confirmed"
        DISMISSED = "dismissed"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="labels")
    kind = models.CharField(max_length=32, choices=Case.Kind.choices)
    label = models.CharField(max_length=16, choices=Label.choices)
    features = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "label"], name="decision_label_by_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.label} (case #{self.case_id})"


class Appeal(models.Model):
    """A request to look again at a decision, once per subject.

    The author of a removed review appeals through their partner's API
    (subject ``review:<id>``); an owner whose report was dismissed appeals in
    the portal (subject ``report:<id>``). Filing reopens the case; a senior
    moderator other than the one who decided upholds or overturns it.
    """

    class Kind(models.TextChoices):
        REVIEW_REMOVED = "review_removed", _("Removed review")
        REPORT_DISMISSED = "report_dismissed", _("Dismissed report")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Decision upheld")
        OVERTURNED = "overturned", _("Decision overturned")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="appeals")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=64, unique=True,
                               help_text="review:<id> or report:<id>: one appeal each.")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="appeals")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="appeals")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="+")
    statement = models.TextField()
    # The decision appealed against, as it stood.
    previous_status = models.CharField(max_length=16, choices=Case.Status.choices)
    previous_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                            null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Appeal #{self.pk} on case #{self.case_id} ({self.status})"
