"""Labels and reasons for the owner portal, in the active language."""

from django import template
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.core.reasons import reason_sentence
from apps.reports.selectors import notifications_unread_count

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


def _get(obj, name: str, default=None):
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


@register.filter
def notification_text(notification) -> str:
    """The sentence of a notification (a Notification, or its e-mail's {kind, values}),
    worded now, in the active language."""
    kind, values = _get(notification, "kind"), _get(notification, "values") or {}
    establishment = values.get("establishment", "")
    report = values.get("report_id", "")
    if kind == "review_held":
        rating = int(values.get("rating") or 0)
        return ngettext(
            "A %(rating)s-star review of %(establishment)s by the guest you reported was "
            "held for a moderator: it is not published while they examine it.",
            "A %(rating)s-star review of %(establishment)s by the guest you reported was "
            "held for a moderator: it is not published while they examine it.",
            rating,
        ) % {"rating": rating, "establishment": establishment}
    if kind == "report_decided" and values.get("decision") == "confirmed":
        return gettext(
            "A moderator confirmed your report #%(report)s (%(establishment)s): the guest's "
            "reviews linked to it were removed."
        ) % {"report": report, "establishment": establishment}
    if kind == "report_decided":
        return gettext(
            "A moderator found no blackmail in your report #%(report)s (%(establishment)s); "
            "the reviews linked to it stay published. You may appeal once from the report's page."
        ) % {"report": report, "establishment": establishment}
    if kind == "appeal_decided" and values.get("outcome") == "overturned":
        return gettext(
            "A senior moderator reviewed your appeal on report #%(report)s (%(establishment)s) "
            "and changed the decision: the blackmail is confirmed."
        ) % {"report": report, "establishment": establishment}
    if kind == "appeal_decided":
        return gettext(
            "A senior moderator reviewed your appeal on report #%(report)s (%(establishment)s) "
            "and kept the decision."
        ) % {"report": report, "establishment": establishment}
    return ""


@register.filter
def notification_subject(notification) -> str:
    kind = _get(notification, "kind")
    return {
        "review_held": gettext("A review was held because of your report"),
        "report_decided": gettext("A moderator decided your report"),
        "appeal_decided": gettext("Your appeal was decided"),
    }.get(kind, gettext("News about your report"))


@register.simple_tag
def unread_notifications(user) -> int:
    return notifications_unread_count(user=user) if user.is_authenticated else 0


@register.filter
def reviews_held(report) -> int:
    """Reviews held right now because of this report: the dashboard cards count the
    same thing (a link that held a review, whose review is still held)."""
    return sum(1 for link in report.links.all()
               if link.held and link.review.status == "held")


@register.simple_tag
def transparency_pages() -> list[tuple[str, str]]:
    """(partner name, url) of every active partner's public transparency page."""
    from django.urls import reverse

    from apps.reports.transparency import public_partners

    return [(name, reverse("transparency_page", args=[key])) for name, key in public_partners()]
