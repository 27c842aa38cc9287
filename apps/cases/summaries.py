"""A case's one-line summary, worded when read, in the reader's language.

Detectors store an English ``summary`` when they open a case; moderators and
partners read this instead: the same facts from the case's kind and member
counts, through gettext with real plurals and localised numbers.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from .models import Appeal, Case


def _count(n: int, one: str, many: str) -> str:
    return ngettext(one, many, n) % {"n": number_format(n, force_grouping=True)}


def case_summary(*, kind: str, n_reviews: int, n_reviewers: int, n_establishments: int) -> str:
    reviews = _count(n_reviews, "%(n)s review", "%(n)s reviews")
    reviewers = _count(n_reviewers, "%(n)s reviewer", "%(n)s reviewers")
    establishments = _count(n_establishments, "%(n)s establishment", "%(n)s establishments")
    if kind == Case.Kind.EXTORTION and n_establishments > 1:
        return gettext("Serial extortion: one guest reported by %(establishments)s; "
                       "%(reviews)s linked") % {"establishments": establishments,
                                                "reviews": reviews}
    if kind == Case.Kind.EXTORTION:
        return gettext("Threat reported by the establishment: %(reviews)s by the reported "
                       "guest") % {"reviews": reviews}
    if kind == Case.Kind.SOCK_PUPPET_RING:
        return gettext("Ring of %(reviewers)s: %(reviews)s of %(establishments)s") % {
            "reviewers": reviewers, "reviews": reviews, "establishments": establishments}
    if kind == Case.Kind.REVIEW_BOMBING:
        return gettext("Burst of %(reviews)s against %(establishments)s, from %(reviewers)s") % {
            "reviews": reviews, "establishments": establishments, "reviewers": reviewers}
    if kind == Case.Kind.ANOMALOUS_REVIEWER:
        return gettext("A reviewer with unusual behaviour: %(reviews)s") % {"reviews": reviews}
    return gettext("%(kind)s: %(reviews)s") % {
        "kind": dict(Case.Kind.choices).get(kind, kind), "reviews": reviews}


def case_summary_of(case: Case) -> str:
    """For a case annotated with n_reviews, n_reviewers, n_establishments (the admin
    queue), or else counted now (one case page)."""
    counts = [getattr(case, name, None) for name in ("n_reviews", "n_reviewers",
                                                     "n_establishments")]
    if None in counts:
        counts = [case.reviews.count(), case.reviewers.count(), case.establishments.count()]
    return case_summary(kind=case.kind, n_reviews=counts[0], n_reviewers=counts[1],
                        n_establishments=counts[2])


def kind_label(kind: str) -> str:
    """The kind's label in the active language; an unknown kind shows its code."""
    return str(dict(Case.Kind.choices).get(kind, kind))


def _status(value) -> str:
    return str(dict(Case.Status.choices).get(value, value)) if value else "—"


def event_change_text(event, *, names: dict[int, str]) -> str:
    """What an audit event changed, in words: statuses by label, assignees by name,
    and what an extension or a reopening added. ``names``: user id -> display name."""
    before, after = event.before or {}, event.after or {}
    parts = []
    if "status" in before or "status" in after:
        parts.append(f"{_status(before.get('status'))} → {_status(after.get('status'))}")
    if "assigned_to" in before or "assigned_to" in after:
        def who(user_id):
            return names.get(user_id, f"#{user_id}") if user_id else "—"
        parts.append(f"{who(before.get('assigned_to'))} → {who(after.get('assigned_to'))}")
    added_reviews = len(after.get("reviews_added") or [])
    added_members = len(after.get("members_added") or [])
    if added_reviews:
        parts.append(ngettext("+%(n)s review", "+%(n)s reviews", added_reviews)
                     % {"n": added_reviews})
    if added_members:
        parts.append(ngettext("+%(n)s member", "+%(n)s members", added_members)
                     % {"n": added_members})
    if "severity" in after and before.get("severity") not in (None, after["severity"]):
        parts.append(gettext("severity %(before)s → %(after)s") % {
            "before": number_format(before["severity"], 2),
            "after": number_format(after["severity"], 2)})
    if after.get("outcome"):
        parts.append(str(dict(Appeal.Status.choices).get(after["outcome"], after["outcome"])))
    if event.action == "extended" and not parts:
        parts.append(gettext("severity unchanged, nothing added"))
    return "; ".join(parts) or "—"


def user_names(user_ids) -> dict[int, str]:
    """Display names (full name, else username) of these users, in one query."""
    from django.contrib.auth import get_user_model

    ids = {i for i in user_ids if isinstance(i, int)}
    return {
        u.pk: u.get_full_name() or u.get_username()
        for u in get_user_model().objects.filter(pk__in=ids)
    }


def assignee_ids(events) -> set[int]:
    return {
        value for event in events for side in (event.before or {}, event.after or {})
        for value in [side.get("assigned_to")] if isinstance(value, int)
    }


EVENT_ACTIONS = {
    "opened": gettext_lazy("opened"),
    "extended": gettext_lazy("extended"),
    "reopened": gettext_lazy("reopened"),
    "merged": gettext_lazy("merged"),
    "assigned": gettext_lazy("assigned"),
    "confirmed": gettext_lazy("confirmed"),
    "dismissed": gettext_lazy("dismissed"),
    "appealed": gettext_lazy("appealed"),
    "appeal_upheld": gettext_lazy("appeal upheld"),
    "appeal_overturned": gettext_lazy("appeal overturned"),
}


def event_action_label(action: str) -> str:
    return str(EVENT_ACTIONS.get(action, action))
