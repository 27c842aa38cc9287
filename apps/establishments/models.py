"""Hotels and restaurants, as each partner knows them, and their owners."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.partners.models import Partner


class Establishment(models.Model):
    class Kind(models.TextChoices):
        HOTEL = "hotel"
        RESTAURANT = "restaurant"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="establishments")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="establishment_external_id_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"


class OwnerMembership(models.Model):
    """A portal user who owns or manages an establishment."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="memberships"
    )
    # The language of the e-mails about this establishment (notifications).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "establishment"], name="one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.establishment}"


class Alert(models.Model):
    """An establishment under an active attack (review bombing or a ring targeting it).

    Raised and ended by detection; shown on the establishment in the API and the
    owner portal, and announced with ``establishment.alert`` webhooks. Organic
    outrage never raises one: an honest crowd is not an attack.
    """

    class Kind(models.TextChoices):
        REVIEW_BOMBING = "review_bombing"
        SOCK_PUPPET_RING = "sock_puppet_ring"

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    since = models.DateTimeField(help_text="When the attack was first detected.")
    last_seen_at = models.DateTimeField(help_text="When its latest review was detected.")
    ended_at = models.DateTimeField(null=True, blank=True)
    # {"reviews": n, "held": n, "reviewers": n}
    counts = models.JSONField(default=dict, blank=True)
    reasons = models.JSONField(default=list, blank=True)  # stored reason records
    case_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The case behind it.")

    class Meta:
        ordering = ["-since"]
        constraints = [
            # At most one active alert of a kind per establishment.
            models.UniqueConstraint(
                fields=["establishment", "kind"], condition=models.Q(ended_at__isnull=True),
                name="one_active_alert_per_kind",
            )
        ]
        indexes = [models.Index(fields=["ended_at", "last_seen_at"], name="alert_active")]

    def __str__(self) -> str:
        return f"{self.kind} alert on {self.establishment_id} since {self.since:%Y-%m-%d %H:%M}"


class OwnerInvitation(models.Model):
    """A one-time, expiring link that lets an owner set a password and manage
    establishments in the portal. Only a hash of the link's token is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE,
                                related_name="owner_invitations")
    email = models.EmailField()
    language = models.CharField(max_length=8, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    establishments = models.ManyToManyField(Establishment, related_name="owner_invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    # The moderator who sent it from the admin; null when the partner did, through the API.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["partner", "email"], name="invitation_by_email")]

    def __str__(self) -> str:
        return f"{self.email} ({self.partner})"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING
