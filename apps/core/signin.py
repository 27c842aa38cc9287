"""The admin's sign-in, with the same brute-force lockout as the owner portal.

``AdminLoginForm`` replaces the admin site's form; ``admin_login`` wraps the
admin's login view so that a locked sign-in answers 429, as the portal does.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from .clientip import client_ip
from .lockout import ADMIN


class AdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": _(
            "Too many failed attempts. For your security, sign-in is blocked for "
            "%(minutes)d minutes."
        ),
    }

    def _locked(self) -> ValidationError:
        return ValidationError(
            self.error_messages["locked"], code="locked",
            params={"minutes": max(1, ADMIN.lockout_seconds() // 60)},
        )

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) if self.request else ""
        if ADMIN.is_locked(username=username, ip=ip):
            raise self._locked()
        try:
            cleaned = super().clean()
        except ValidationError:
            if ADMIN.record_failure(username=username, ip=ip):
                raise self._locked() from None
            raise
        ADMIN.record_success(username=username, ip=ip)
        return cleaned


def admin_login(request, extra_context=None):
    response = admin.site.login(request, extra_context)
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, "locked"):
        response.status_code = 429
    return response
