"""Reads of threat reports shared by the API, the portal and the admin."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet

from apps.cases.models import Case
from apps.establishments.models import Establishment
from apps.partners.models import Partner

from .models import ReportReviewLink, ThreatEvidence, ThreatReport


def _with_members(qs: QuerySet[ThreatReport]) -> QuerySet[ThreatReport]:
    return qs.select_related("establishment").prefetch_related(
        Prefetch("links", queryset=ReportReviewLink.objects.select_related("review")),
        Prefetch("evidence", queryset=ThreatEvidence.objects.all()),
        Prefetch("cases", queryset=Case.objects.only("id", "status", "kind")),
    )


def threat_reports_of_partner(*, partner: Partner) -> QuerySet[ThreatReport]:
    return _with_members(ThreatReport.objects.filter(partner=partner))


# The portal is for owners only. Being staff (or a superuser) gives no portal
# access to other owners' establishments: moderators read reports and their
# evidence in the admin, under the `reports.view_threatevidence` permission.


def establishments_of_owner(*, user: AbstractBaseUser) -> QuerySet[Establishment]:
    """The establishments a portal user holds a membership of."""
    return Establishment.objects.filter(memberships__user=user).distinct()


def threat_reports_of_owner(*, user: AbstractBaseUser) -> QuerySet[ThreatReport]:
    """Reports about the establishments the user owns, whoever filed them."""
    return _with_members(
        ThreatReport.objects.filter(establishment__memberships__user=user).distinct()
    )


def evidence_for_user(*, user: AbstractBaseUser, evidence_id: int) -> ThreatEvidence | None:
    """The evidence file if the user owns its report's establishment."""
    return (
        ThreatEvidence.objects.select_related("report")
        .filter(id=evidence_id, report__establishment__memberships__user=user)
        .first()
    )


def evidence_for_moderator(*, user: AbstractBaseUser, evidence_id: int) -> ThreatEvidence | None:
    """Any evidence file, for an admin user with ``reports.view_threatevidence``."""
    if not (user.is_active and user.is_staff and user.has_perm("reports.view_threatevidence")):
        return None
    return ThreatEvidence.objects.select_related("report").filter(id=evidence_id).first()
