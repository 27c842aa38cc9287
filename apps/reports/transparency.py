"""The transparency report: what a partner's screening did in a month, in counts only.

Reviews screened, held, removed and published after a moderator looked at them,
by kind of finding; how fast moderators decided; appeals and their outcomes;
owners' threat reports by outcome. Every figure is an aggregate query in the
app that owns the table; nothing here identifies a person.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.cases.models import Appeal, Case
from apps.cases.selectors import (
    appeal_counts,
    decision_hours,
    review_outcomes_by_case_kind,
    reviews_published_after_review,
)
from apps.core.exceptions import ApplicationError
from apps.partners.models import Partner
from apps.reviews.selectors import review_status_counts

from .models import ThreatReport
from .selectors import report_outcome_counts

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"


def period_parse(value: str | None) -> Period:
    """``YYYY-MM`` (UTC month) -> Period; empty means the current month.

    Raises ApplicationError ``validation_error`` for anything else.
    """
    if not value:
        now = timezone.now()
        value = f"{now:%Y-%m}"
    match = PERIOD.match(value)
    if match is None:
        raise ApplicationError("validation_error", _("The request is invalid."),
                               fields={"period": [_("Use the form YYYY-MM, e.g. 2026-05.")]})
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return Period(start, end)


def partner_public_key(partner: Partner) -> str:
    """The partner's address on the public page: its slugified name."""
    return slugify(partner.name) or str(partner.pk)


def public_partners() -> list[tuple[str, str]]:
    """(name, key) of every active partner, for links to their transparency pages."""
    return [(p.name, partner_public_key(p))
            for p in Partner.objects.filter(is_active=True).only("id", "name").order_by("name")]


def partner_for_public_key(key: str) -> Partner | None:
    """The active partner at /transparency/<key>/: by id, or by slugified name."""
    partners = Partner.objects.filter(is_active=True)
    if key.isdigit():
        return partners.filter(pk=int(key)).first()
    # Partners are few; names are unique, so at most one slug matches.
    return next((p for p in partners.only("id", "name") if slugify(p.name) == key), None)


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    reviews: int
    held: int
    removed: int
    published: int


@dataclass(frozen=True)
class TransparencyReport:
    partner: Partner
    period: Period
    received: int
    screened: int
    published: int
    held: int
    removed: int
    pending: int
    published_after_review: int
    by_kind: list[KindRow]
    cases_decided: int
    median_hours_to_decision: float | None
    appeals: dict[str, dict[str, int]]  # kind -> {open, upheld, overturned}
    reports: dict[str, int]  # filed, open, linked, confirmed, dismissed

    @property
    def median_decision_text(self) -> str:
        """"5 hours", "3 days", "1 jour": hours up to two days, then days."""
        hours = self.median_hours_to_decision
        if hours is None:
            return "—"
        if hours < 48:
            n = max(1, round(hours))
            return ngettext("%(n)s hour", "%(n)s hours", n) % {"n": _number(n)}
        n = round(hours / 24)
        return ngettext("%(n)s day", "%(n)s days", n) % {"n": _number(n)}

    def as_dict(self) -> dict:
        """The API's and the CSV's shape."""
        return {
            "partner": self.partner.name,
            "period": self.period.label,
            "reviews": {
                "received": self.received, "screened": self.screened,
                "published": self.published, "held": self.held, "removed": self.removed,
                "pending": self.pending, "published_after_review": self.published_after_review,
            },
            "by_kind": [
                {"kind": row.kind, "reviews": row.reviews, "held": row.held,
                 "removed": row.removed, "published": row.published}
                for row in self.by_kind
            ],
            "decisions": {
                "cases_decided": self.cases_decided,
                "median_hours_to_decision": self.median_hours_to_decision,
            },
            "appeals": {
                kind: {status: self.appeals.get(kind, {}).get(status, 0)
                       for status in Appeal.Status.values}
                for kind in Appeal.Kind.values
            },
            "reports": {key: self.reports.get(key, 0)
                        for key in ("filed", *ThreatReport.Status.values)},
        }


def transparency_report(*, partner: Partner, period: Period) -> TransparencyReport:
    window = {"partner": partner, "start": period.start, "end": period.end}
    counts = review_status_counts(**window)
    hours = decision_hours(**window)
    labels = dict(Case.Kind.choices)
    return TransparencyReport(
        partner=partner, period=period,
        received=counts["received"], screened=counts["screened"],
        published=counts["published"], held=counts["held"], removed=counts["removed"],
        pending=counts["pending"],
        published_after_review=reviews_published_after_review(**window),
        by_kind=[KindRow(kind=row["kind"], label=str(labels.get(row["kind"], row["kind"])),
                         reviews=row["reviews"], held=row["held"], removed=row["removed"],
                         published=row["published"])
                 for row in review_outcomes_by_case_kind(**window)],
        cases_decided=len(hours),
        median_hours_to_decision=round(statistics.median(hours), 1) if hours else None,
        appeals=appeal_counts(**window),
        reports=report_outcome_counts(**window),
    )


def transparency_csv(report: TransparencyReport) -> str:
    """One row per figure: section, item, value (stable names, for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["partner", "period", "section", "item", "value"])
    data = report.as_dict()
    prefix = [data["partner"], data["period"]]
    for key, value in data["reviews"].items():
        writer.writerow([*prefix, "reviews", key, value])
    for row in data["by_kind"]:
        for key in ("reviews", "held", "removed", "published"):
            writer.writerow([*prefix, f"by_kind.{row['kind']}", key, row[key]])
    for key, value in data["decisions"].items():
        writer.writerow([*prefix, "decisions", key, "" if value is None else value])
    for kind, statuses in data["appeals"].items():
        for status, value in statuses.items():
            writer.writerow([*prefix, f"appeals.{kind}", status, value])
    for key, value in data["reports"].items():
        writer.writerow([*prefix, "reports", key, value])
    return out.getvalue()


# --- The chart ----------------------------------------------------------------------

BAR_COLOURS = {"published": "#1e8449", "published_after_review": "#2e86c1",
               "held": "#d68910", "removed": "#c0392b"}


def transparency_svg(report: TransparencyReport) -> SafeString:
    """Horizontal bars: what became of the month's reviews, and per kind of finding."""
    rows = [
        (_("Published directly"), report.published - report.published_after_review,
         "published"),
        (_("Published after review"), report.published_after_review, "published_after_review"),
        (_("Held for a moderator"), report.held, "held"),
        (_("Removed by a moderator"), report.removed, "removed"),
    ]
    for row in report.by_kind:  # per kind only what happened, not rows of zeros
        if row.removed:
            rows.append((_("%(kind)s: removed") % {"kind": row.label}, row.removed, "removed"))
        if row.held:
            rows.append((_("%(kind)s: held") % {"kind": row.label}, row.held, "held"))
    width, label_w, bar_w, row_h = 720, 260, 380, 26
    height = 16 + row_h * len(rows)
    top = max([value for _label, value, _c in rows] + [1])
    body = []
    for i, (label, value, colour) in enumerate(rows):
        y = 8 + i * row_h
        length = bar_w * value / top
        body.append(f'<text x="{label_w - 8}" y="{y + 16}" font-size="13" text-anchor="end" '
                     f'fill="#333">{escape(label)}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(length, 1.5):.1f}" '
                    f'height="{row_h - 8}" rx="3" fill="{BAR_COLOURS[colour]}"/>')
        body.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 16}" font-size="13" '
                    f'fill="#333">{escape(_number(value))}</text>')
    title = _("What became of the reviews received in %(period)s") % {
        "period": report.period.label}
    return mark_safe(  # noqa: S308 - every label above went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px;font-family:system-ui,sans-serif" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)
