"""``Authorization: Api-Key <key>`` authentication and the partner permission."""

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from .models import ApiKey, Partner
from .selectors import api_key_lookup


@dataclass(frozen=True)
class PartnerPrincipal:
    """What ``request.user`` is for API calls: the calling partner."""

    partner: Partner
    is_authenticated: bool = True

    @property
    def pk(self) -> int:
        return self.partner.pk


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        api_key = api_key_lookup(key=key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return PartnerPrincipal(partner=api_key.partner), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsPartner(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the Api-Key header in the OpenAPI schema."""

    target_class = "apps.partners.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, as printed by `manage.py create_partner`.",
        }
