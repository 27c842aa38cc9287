"""Sign-in by e-mail address or username, with Django's password checks."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailOrUsernameBackend(ModelBackend):
    """``ModelBackend`` that also accepts the account's e-mail address (any case).

    An address shared by several accounts signs none of them in by e-mail (the
    username still works): guessing which one was meant would be a way in.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None or not username or "@" not in username or password is None:
            return user
        model = get_user_model()
        matches = list(model._default_manager.filter(email__iexact=username.strip())[:2])
        if len(matches) != 1:
            # Run the hasher anyway so timing does not tell whether the address exists.
            model().set_password(password)
            return None
        candidate = matches[0]
        if candidate.check_password(password) and self.user_can_authenticate(candidate):
            return candidate
        return None
