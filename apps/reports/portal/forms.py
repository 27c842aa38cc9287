"""Owner portal forms: sign-in with lockout, and the threat report form."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..evidence import ALLOWED
from ..models import ThreatReport
from . import lockout


class OwnerLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The e-mail or username and the password do not match."),
        "locked": _(
            "Too many failed attempts. For your security, sign-in is blocked for "
            "%(minutes)d minutes."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = lockout.client_ip(self.request) if self.request else ""
        if lockout.is_locked(username=username, ip=ip):
            raise ValidationError(
                self.error_messages["locked"], code="locked",
                params={"minutes": max(1, lockout.lockout_seconds() // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if lockout.record_failure(username=username, ip=ip):
                raise ValidationError(
                    self.error_messages["locked"], code="locked",
                    params={"minutes": max(1, lockout.lockout_seconds() // 60)},
                ) from None
            raise
        lockout.record_success(username=username, ip=ip)
        return cleaned


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ReportForm(forms.Form):
    establishment = forms.ModelChoiceField(queryset=None, label=_("Establishment"),
                                           empty_label=None)
    guest_name = forms.CharField(label=_("Guest name"), max_length=200, required=False)
    guest_email = forms.EmailField(label=_("Guest e-mail"), max_length=254, required=False)
    guest_booking_ref = forms.CharField(label=_("Booking reference"), max_length=100,
                                        required=False)
    guest_handle = forms.CharField(
        label=_("Reviewer name on the platform"), max_length=100, required=False,
        help_text=_("The name the guest uses on the review site, if you know it."),
    )
    channel = forms.ChoiceField(label=_("How did the threat reach you?"),
                                choices=ThreatReport.Channel.choices)
    demand = forms.ChoiceField(label=_("What did the guest demand?"),
                               choices=ThreatReport.Demand.choices)
    received_at = forms.DateTimeField(
        label=_("When did you receive it?"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    message_text = forms.CharField(
        label=_("The message, word for word"), max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Copy the message, or write down what was said as precisely as you can."),
    )
    evidence = MultipleFileField(
        label=_("Evidence"), required=False,
        widget=MultipleFileInput(attrs={"accept": ",".join(sorted(ALLOWED))}),
        help_text=_("Screenshots (PNG, JPEG, GIF, WebP), PDF documents or saved e-mails (.eml); "
                    "up to 10 files of 10 MB each."),
    )

    def __init__(self, *args, establishments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["establishment"].queryset = establishments
        if "received_at" not in self.initial:
            self.initial["received_at"] = timezone.localtime().replace(second=0, microsecond=0)

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError(_("This date is in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        identifiers = ("guest_name", "guest_email", "guest_booking_ref", "guest_handle")
        if not any((cleaned.get(f) or "").strip() for f in identifiers):
            raise ValidationError(
                _("Give at least one way to identify the guest: name, e-mail, booking "
                  "reference or reviewer name.")
            )
        return cleaned

    def payload(self) -> dict:
        c = self.cleaned_data
        return {
            "guest": {"name": c["guest_name"], "email": c["guest_email"],
                      "booking_ref": c["guest_booking_ref"],
                      "reviewer_handle": c["guest_handle"]},
            "channel": c["channel"],
            "message_text": c["message_text"],
            "demand": c["demand"],
            "received_at": c["received_at"],
        }


class InvitationAcceptForm(forms.Form):
    """Choose a password (and say one's name) to redeem an owner invitation."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password1 = forms.CharField(label=_("Password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=_("At least 8 characters, not only digits, not a "
                                            "common password."))
    password2 = forms.CharField(label=_("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class EmailLanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of my e-mails"), choices=settings.LANGUAGES)


class AppealForm(forms.Form):
    statement = forms.CharField(
        label=_("Why should the decision change?"), max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("New facts, evidence the moderator may have missed, anything that matters."),
    )
