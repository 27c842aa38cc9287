"""Erasure of a reviewer's personal data on request (GDPR article 17).

What is erased, and what is kept (docs/RELIABILITY.md, "Erasure"):

- The reviewer's display name, e-mail hash and account creation date are
  cleared. The row stays, with its partner and external id (the partner's own
  pseudonym for the account), so that every case keeps its members and the
  partner can tell which account was erased.
- Each of their reviews: title cleared, text replaced by a tombstone, and the
  IP, /24, device and booking reference hashes cleared. Rating, dates, status,
  risk score and reason codes stay: they are the record of moderation
  decisions, and cases stay whole (same members, same counts). The payload
  fingerprint stays too, so that re-sending the old payload is still answered
  as already stored instead of storing it again.

Idempotent: erasing twice changes nothing more. Nothing personal is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.core.exceptions import ApplicationError
from apps.partners.models import Partner

from .models import Review, Reviewer

logger = logging.getLogger(__name__)

TOMBSTONE = "[Removed at the reviewer's request.]"


@dataclass(frozen=True)
class ErasureResult:
    reviewer_id: int
    reviews: int
    review_ids: tuple[int, ...] = ()


@transaction.atomic
def reviewer_erase(*, partner: Partner, external_id: str) -> ErasureResult:
    reviewer = (
        Reviewer.objects.select_for_update()
        .filter(partner=partner, external_id=external_id)
        .first()
    )
    if reviewer is None:
        raise ApplicationError(
            "unknown_reviewer", str(_("No such reviewer for this partner.")), status=404
        )
    Reviewer.objects.filter(pk=reviewer.pk).update(
        display_name="", email_hash="", account_created_at=None
    )
    review_ids = tuple(Review.objects.filter(reviewer=reviewer).order_by("id")
                       .values_list("id", flat=True))
    reviews = Review.objects.filter(reviewer=reviewer).update(
        title="", text=TOMBSTONE, ip_hash="", ip24_hash="", device_hash="", booking_ref_hash=""
    )
    logger.info("reviewer %s erased: %d reviews tombstoned", reviewer.pk, reviews)
    return ErasureResult(reviewer_id=reviewer.pk, reviews=reviews, review_ids=review_ids)
