"""The public transparency page of a partner, and its CSV export (no sign-in)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.exceptions import ApplicationError

from ..transparency import (
    partner_for_public_key,
    period_parse,
    transparency_csv,
    transparency_report,
    transparency_svg,
)


def _report(key: str, period: str | None):
    partner = partner_for_public_key(key)
    if partner is None:
        raise Http404("No such partner")
    try:
        parsed = period_parse(period)
    except ApplicationError as exc:
        raise Http404("No such period") from exc
    return transparency_report(partner=partner, period=parsed)


@require_GET
def transparency_page(request, key: str):
    report = _report(key, request.GET.get("period"))
    return render(request, "transparency/report.html", {
        "report": report, "chart": transparency_svg(report), "key": key,
        "appeals": report.as_dict()["appeals"],
    })


@require_GET
def transparency_export(request, key: str):
    report = _report(key, request.GET.get("period"))
    response = HttpResponse(transparency_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="transparency-{key}-{report.period.label}.csv"')
    return response
