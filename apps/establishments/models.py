"""Hotels and restaurants, as each partner knows them, and their owners."""

from django.conf import settings
from django.db import models

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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "establishment"], name="one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.establishment}"
