"""Labels and reasons for the owner portal, in the active language."""

from django import template
from django.utils.translation import gettext_lazy as _

from apps.core.reasons import reason_sentence

register = template.Library()

REVIEW_STATUS = {
    "pending": _("Being checked"),
    "published": _("Published"),
    "held": _("Held for moderation"),
    "removed": _("Removed"),
}

REPORT_STATUS_HELP = {
    "open": _("We have not found a review by this guest yet. New reviews are checked "
              "against your report for 30 days."),
    "linked": _("We found reviews by this guest. A moderator is examining the case."),
    "confirmed": _("A moderator confirmed the blackmail. The guest's reviews linked to "
                   "this report were removed."),
    "dismissed": _("A moderator found no blackmail. Reviews linked to this report stay "
                   "published."),
}

METHODS = {
    "email": _("e-mail"),
    "booking_ref": _("booking reference"),
    "handle": _("reviewer name"),
    "name": _("name"),
}


@register.filter
def review_status_label(status: str) -> str:
    return REVIEW_STATUS.get(status, status)


@register.filter
def report_status_help(status: str) -> str:
    return REPORT_STATUS_HELP.get(status, "")


@register.filter
def method_labels(methods: str) -> str:
    return ", ".join(str(METHODS.get(m, m)) for m in methods.split(",") if m)


@register.filter
def reasons_text(reasons: list, limit: int = 3) -> list[str]:
    """Reason sentences in the active language (fr or en), strongest first."""
    return [reason_sentence(r) for r in (reasons or [])[: int(limit)]]


@register.filter
def stars(rating: int) -> str:
    rating = int(rating or 0)
    return "★" * rating + "☆" * (5 - rating)
