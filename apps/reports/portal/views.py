"""Owner portal: sign in, see one's establishments, file a threat report, follow it.

Every page is scoped to the establishments the signed-in owner holds a
membership of (being staff grants nothing here); anything else answers 404, so an owner
cannot even learn that another owner's report exists.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.exceptions import ApplicationError
from apps.detection.services import threat_report_submit
from apps.reviews.models import Review

from ..evidence import evidence_file_response
from ..models import ReportReviewLink, ThreatReport
from ..selectors import establishments_of_owner, evidence_for_user, threat_reports_of_owner
from .forms import OwnerLoginForm, ReportForm

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
    links = sorted(report.links.all(), key=lambda link: (not link.held, link.review.created_at))
    return render(request, "portal/report_detail.html", {
        "report": report, "links": links, "nav": "reports",
    })


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
    return evidence_file_response(evidence)
