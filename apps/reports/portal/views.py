"""Owner portal: sign in, see one's establishments, file a threat report, follow it.

Every page is scoped to the establishments the signed-in owner holds a
membership of (being staff grants nothing here); anything else answers 404, so an owner
cannot even learn that another owner's report exists.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.cases.selectors import appeal_of_subject
from apps.core.exceptions import ApplicationError
from apps.detection.services import threat_report_submit
from apps.establishments.selectors import active_alerts_of
from apps.establishments.services import (
    owner_invitation_accept,
    owner_invitation_check,
    owner_language_set,
)
from apps.reviews.models import Review

from ..evidence import evidence_file_response
from ..models import EvidenceAccess, ReportReviewLink, ThreatReport
from ..selectors import (
    establishments_of_owner,
    evidence_for_user,
    notifications_of_owner,
    owner_language,
    threat_reports_of_owner,
)
from ..services import (
    evidence_access_record,
    notifications_mark_read,
    report_appeal_file,
    report_appeal_subject,
)
from .forms import AppealForm, EmailLanguageForm, InvitationAcceptForm, OwnerLoginForm, ReportForm

owner_required = login_required(login_url=reverse_lazy("portal:login"))


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = OwnerLoginForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("portal:dashboard")

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "locked"):
            response.status_code = 429
        return response


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")


# --- Invitations and password reset ----------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """An invited owner chooses a password and lands, signed in, on the dashboard."""
    try:
        invitation = owner_invitation_check(token=token)
    except ApplicationError as exc:
        return render(request, "portal/invitation_invalid.html", {"message": exc.message},
                      status=exc.status_code)
    form = InvitationAcceptForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = owner_invitation_accept(
                    token=token, password=data["password1"], first_name=data["first_name"],
                    last_name=data["last_name"],
                )
            except ApplicationError as exc:
                for message in exc.fields.get("password", [exc.message]):
                    form.add_error("password1", message)
            else:
                login(request, user, backend="apps.core.backends.EmailOrUsernameBackend")
                messages.success(request, _("Welcome! Your password is set; sign in next time "
                                            "with your e-mail address."))
                return redirect("portal:dashboard")
    return render(request, "portal/invitation_accept.html", {
        "form": form, "invitation": invitation,
        "establishments": invitation.establishments.order_by("name"),
    }, status=status)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")

    def form_valid(self, form):
        # Links point at the public address, not at whatever Host the request carried.
        base = settings.PUBLIC_BASE_URL
        self.extra_email_context = {"base_url": base}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


@require_GET
@owner_required
def dashboard(request):
    undecided = Q(threat_reports__status__in=(ThreatReport.Status.OPEN,
                                              ThreatReport.Status.LINKED))
    establishments = establishments_of_owner(user=request.user).annotate(
        reports_total=Count("threat_reports", distinct=True),
        reports_open=Count("threat_reports", filter=undecided, distinct=True),
    ).order_by("name")
    held = dict(
        ReportReviewLink.objects.filter(
            report__establishment__in=establishments, held=True,
            review__status=Review.Status.HELD,
        ).values("report__establishment_id").annotate(n=Count("review", distinct=True))
        .values_list("report__establishment_id", "n")
    )
    for establishment in establishments:
        establishment.reviews_held = held.get(establishment.id, 0)
    alerts = active_alerts_of(establishment_ids=[e.id for e in establishments])
    for establishment in establishments:
        establishment.alert = alerts.get(establishment.id)
    recent = threat_reports_of_owner(user=request.user)[:5]
    return render(request, "portal/dashboard.html", {
        "establishments": establishments, "recent": recent, "nav": "dashboard",
    })


@require_GET
@owner_required
def report_list(request):
    reports = threat_reports_of_owner(user=request.user)
    status = request.GET.get("status", "")
    if status in ThreatReport.Status.values:
        reports = reports.filter(status=status)
    return render(request, "portal/report_list.html", {
        "reports": reports, "status": status, "statuses": ThreatReport.Status.choices,
        "nav": "reports",
    })


@require_GET
@owner_required
def report_detail(request, pk: int):
    report = get_object_or_404(threat_reports_of_owner(user=request.user), pk=pk)
    return _report_page(request, report)


def _report_page(request, report, *, appeal_form=None, status: int = 200):
    links = sorted(report.links.all(), key=lambda link: (not link.held, link.review.created_at))
    appeal = appeal_of_subject(subject=report_appeal_subject(report))
    if appeal is None and report.status == ThreatReport.Status.DISMISSED and appeal_form is None:
        appeal_form = AppealForm()
    return render(request, "portal/report_detail.html", {
        "report": report, "links": links, "nav": "reports", "appeal": appeal,
        "appeal_form": appeal_form,
    }, status=status)


@require_POST
@owner_required
def report_appeal(request, pk: int):
    """The owner appeals the dismissal of their report (once)."""
    report = get_object_or_404(threat_reports_of_owner(user=request.user), pk=pk)
    form = AppealForm(request.POST)
    if not form.is_valid():
        return _report_page(request, report, appeal_form=form, status=400)
    try:
        report_appeal_file(report=report, user=request.user,
                           statement=form.cleaned_data["statement"])
    except ApplicationError as exc:
        form.add_error("statement", exc.message)
        return _report_page(request, report, appeal_form=form, status=exc.status_code)
    messages.success(request, _("Your appeal has been sent. A senior moderator will look at "
                                "your report again."))
    return redirect("portal:report_detail", pk=report.pk)


@require_http_methods(["GET", "POST"])
@owner_required
def report_new(request):
    establishments = establishments_of_owner(user=request.user).select_related("partner")
    if not establishments.exists():
        raise Http404("No establishment")
    initial = {}
    if request.GET.get("establishment", "").isdigit():
        initial["establishment"] = int(request.GET["establishment"])
    try:
        data, files = request.POST, request.FILES
    except ApplicationError as exc:  # evidence over the cap, refused while it streamed in
        messages.error(request, exc.message)
        form = ReportForm(establishments=establishments, initial=initial)
        return render(request, "portal/report_form.html", {"form": form, "nav": "new"},
                      status=exc.status_code)
    form = ReportForm(data or None, files or None,
                      establishments=establishments, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            establishment = form.cleaned_data["establishment"]
            try:
                report = threat_report_submit(
                    partner=establishment.partner, establishment=establishment,
                    reporter=request.user, payload=form.payload(),
                    files=form.cleaned_data["evidence"],
                )
            except ApplicationError as exc:
                details = [m for msgs in exc.fields.values() if isinstance(msgs, list)
                           for m in msgs]
                form.add_error("evidence" if "evidence" in exc.code else None,
                               details or exc.message)
                status = exc.status_code
            else:
                messages.success(request, _(
                    "Your report has been filed. We are looking for reviews by this guest."))
                return redirect("portal:report_detail", pk=report.pk)
        else:
            status = 400
    return render(request, "portal/report_form.html", {"form": form, "nav": "new"},
                  status=status)


@require_GET
@owner_required
def evidence_download(request, pk: int):
    evidence = evidence_for_user(user=request.user, evidence_id=pk)
    if evidence is None:
        raise Http404("No such evidence")
    evidence_access_record(evidence=evidence, user=request.user, via=EvidenceAccess.Via.PORTAL)
    return evidence_file_response(evidence)


@require_http_methods(["GET", "POST"])
@owner_required
def notification_list(request):
    """What happened to the owner's reports; opening the page marks them read."""
    form = EmailLanguageForm(request.POST or None,
                             initial={"language": owner_language(user=request.user)})
    if request.method == "POST" and form.is_valid():
        owner_language_set(user=request.user, language=form.cleaned_data["language"])
        messages.success(request, _("E-mail language saved."))
        return redirect("portal:notifications")
    items = list(notifications_of_owner(user=request.user)[:100])
    unread = {n.id for n in items if n.read_at is None}
    response = render(request, "portal/notifications.html", {
        "notifications": items, "unread": unread, "form": form, "nav": "notifications",
    })
    notifications_mark_read(user=request.user, ids=unread)
    return response
