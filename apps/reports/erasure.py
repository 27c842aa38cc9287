"""A reviewer's personal data out of the threat reports that name them (GDPR art. 17).

Called by ``manage.py erase_reviewer`` before the reviewer's own rows are erased
(``apps.reviews.erasure``): it needs their identifier hashes to find the reports.

A report names the reviewer when it is linked to one of their reviews (any
partner's report: the link says it is them), or when one of its exact guest
identifiers — e-mail, booking reference, or handle on the site — is theirs on a
report of the same partner. A report that only resembles their name is not
touched: a namesake's report is not theirs to erase.

From such a report go the guest's name, its folded key and every guest
identifier hash, and the name wherever the message quotes it. The report
itself, its status, its evidence files, its links to reviews and its cases
stay: moderation decisions keep their record. Notifications to owners about
the reviewer's reviews lose the review title they quoted. Idempotent.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Q

from apps.reviews.models import Review, Reviewer

from .models import Notification, ThreatReport
from .services import handle_hash

NAME_REMOVED = "[name removed]"


def _redact(text: str, names: set[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        if len(name) >= 3:
            text = re.sub(re.escape(name), NAME_REMOVED, text, flags=re.IGNORECASE)
    return text


@transaction.atomic
def reports_erase_reviewer(*, reviewer: Reviewer) -> int:
    """Erase ``reviewer`` from the reports that name them; returns how many reports."""
    reviews = Review.objects.filter(reviewer=reviewer)
    same_partner = Q()
    if reviewer.email_hash:
        same_partner |= Q(guest_email_hash=reviewer.email_hash)
    booking_refs = {h for h in reviews.values_list("booking_ref_hash", flat=True) if h}
    if booking_refs:
        same_partner |= Q(guest_booking_ref_hash__in=booking_refs)
    handles = {handle_hash(v) for v in (reviewer.display_name, reviewer.external_id) if v}
    same_partner |= Q(guest_handle_hash__in=handles)
    naming = Q(links__review__reviewer=reviewer) | (Q(partner_id=reviewer.partner_id) & same_partner)
    # The link join may match a report once per linked review: select by id.
    reports = list(ThreatReport.objects.select_for_update(of=("self",))
                   .filter(id__in=ThreatReport.objects.filter(naming).values("id"))
                   .only("id", "guest_name", "message_text"))
    for report in reports:
        names = {report.guest_name.strip(), reviewer.display_name.strip()} - {""}
        ThreatReport.objects.filter(pk=report.pk).update(
            guest_name="", guest_name_key="", guest_email_hash="", guest_booking_ref_hash="",
            guest_handle_hash="", message_text=_redact(report.message_text, names))
    for note in Notification.objects.filter(review__reviewer=reviewer).only("id", "values"):
        if note.values.get("title"):
            Notification.objects.filter(pk=note.pk).update(values={**note.values, "title": ""})
    return len(reports)
