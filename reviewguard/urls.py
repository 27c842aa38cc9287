"""URL routes: the partner API v1, its schema and docs, probes, the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import DefaultRouter

from apps.cases.api import CaseViewSet
from apps.core.signin import AdminLoginForm, admin_login
from apps.core.views import healthz, landing, readyz
from apps.establishments.api import EstablishmentViewSet, OwnerInvitationViewSet
from apps.partners.api import WebhookDeliveryViewSet
from apps.reports.api import ThreatReportViewSet, TransparencyApi
from apps.reports.portal.transparency import transparency_export, transparency_page
from apps.reviews.api import ReviewViewSet
from reviewguard.metrics import metrics

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("establishments", EstablishmentViewSet, basename="establishment")
router.register("reviews", ReviewViewSet, basename="review")
router.register("cases", CaseViewSet, basename="case")
router.register("threat-reports", ThreatReportViewSet, basename="threat-report")
router.register("owner-invitations", OwnerInvitationViewSet, basename="owner-invitation")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

api_v1 = [
    path("", include(router.urls)),
    path("transparency/", TransparencyApi.as_view(), name="transparency"),
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
         name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="schema", authentication_classes=[],
                                               permission_classes=[]), name="docs"),
    path("swagger/", SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[],
                                                    permission_classes=[]), name="swagger"),
]

admin.site.login_form = AdminLoginForm  # brute-force lockout, as on the portal

urlpatterns = [
    path("", landing, name="landing"),
    path("api/v1/", include(api_v1)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("portal/", include("apps.reports.portal.urls")),
    path("transparency/<slug:key>/", transparency_page, name="transparency_page"),
    path("transparency/<slug:key>/export.csv", transparency_export, name="transparency_export"),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "apps.core.exceptions.json_400"
handler404 = "apps.core.exceptions.json_404"
handler500 = "apps.core.exceptions.json_500"
