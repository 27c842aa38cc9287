"""A Content-Security-Policy on every page (settings.CONTENT_SECURITY_POLICY).

No page of the portal or the admin runs inline scripts, so scripts come only
from our own origin; inline style attributes are allowed (the admin and the
case charts use them). A response that sets its own policy keeps it (evidence
downloads are sandboxed). Paths in CONTENT_SECURITY_POLICY_EXEMPT (the Redoc
page, which builds its styles and workers at run time) get none.
"""

from __future__ import annotations

from django.conf import settings

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        exempt = getattr(settings, "CONTENT_SECURITY_POLICY_EXEMPT", ())
        if policy and HEADER not in response and not request.path.startswith(tuple(exempt)):
            response[HEADER] = policy
        return response
