"""Establishments, their owners and owner invitations in the admin."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.exceptions import ApplicationError

from .models import Establishment, OwnerInvitation, OwnerMembership
from .services import owner_invitation_create


class MembershipInline(admin.TabularInline):
    model = OwnerMembership
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "city", "country", "partner", "external_id")
    list_filter = ("kind", "country", "partner")
    search_fields = ("name", "=external_id", "city")
    list_select_related = ("partner",)
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("partner", "external_id", "created_at", "updated_at")
    inlines = (MembershipInline,)

    def has_add_permission(self, request) -> bool:
        return False  # partners register establishments through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OwnerInvitationForm(forms.ModelForm):
    class Meta:
        model = OwnerInvitation
        fields = ("partner", "email", "establishments", "language")
        help_texts = {
            "establishments": _("The establishments the owner will manage; all of the "
                                "chosen partner's."),
            "language": _("The language of the invitation and of later e-mails."),
        }

    def clean(self):
        cleaned = super().clean()
        partner, establishments = cleaned.get("partner"), cleaned.get("establishments")
        if partner and establishments:
            others = [e.name for e in establishments if e.partner_id != partner.id]
            if others:
                raise ValidationError(
                    _("Not establishments of %(partner)s: %(names)s."),
                    params={"partner": partner, "names": ", ".join(others)},
                )
        return cleaned


@admin.register(OwnerInvitation)
class OwnerInvitationAdmin(admin.ModelAdmin):
    """Moderators invite owners here; the invitation e-mail leaves on save."""

    form = OwnerInvitationForm
    list_display = ("email", "partner", "language", "status_display", "created_at",
                    "expires_at", "accepted_at", "created_by")
    list_filter = ("partner", "language")
    search_fields = ("email",)
    list_select_related = ("partner", "created_by")
    autocomplete_fields = ("establishments",)
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("status"))
    def status_display(self, invitation: OwnerInvitation) -> str:
        return OwnerInvitation.Status(invitation.status).label

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # an invitation is sent, not edited: send a new one instead

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            invitation = owner_invitation_create(
                partner=data["partner"], email=data["email"], language=data["language"],
                establishments=list(data["establishments"]), created_by=request.user,
            )
        except ApplicationError as exc:  # checked by the form already; kept as a guard
            raise ValidationError(exc.message) from exc
        obj.pk = invitation.pk
        obj.__dict__.update({k: v for k, v in invitation.__dict__.items() if not k.startswith("_")})

    def save_related(self, request, form, formsets, change):
        """The service already attached the establishments."""
