"""Establishments: upsert (idempotent on (partner, external_id)), owner invitations,
and attack alerts."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.emails import email_schedule
from apps.core.exceptions import ApplicationError
from apps.core.reasons import reasons_payload
from apps.partners.models import Partner
from apps.partners.services import WebhookEvent, webhook_emit, webhooks_emit_many

from .models import Alert, Establishment, OwnerInvitation, OwnerMembership

FIELDS = ("name", "kind", "city", "country")


@dataclass(frozen=True)
class EstablishmentResult:
    establishment: Establishment
    created: bool
    updated: bool


@transaction.atomic
def establishments_upsert(*, partner: Partner, items: list[dict]) -> list[EstablishmentResult]:
    """Create or update establishments from validated items, in input order.

    An establishment's name or city may legitimately change, so a second
    payload under the same external_id updates it (200) rather than conflicting.
    """
    ids = [item["external_id"] for item in items]
    existing = {
        e.external_id: e
        for e in Establishment.objects.select_for_update().filter(
            partner=partner, external_id__in=ids
        )
    }
    results: list[EstablishmentResult] = []
    for item in items:
        current = existing.get(item["external_id"])
        if current is None:
            current = Establishment.objects.create(partner=partner, **item)
            existing[item["external_id"]] = current
            results.append(EstablishmentResult(current, created=True, updated=False))
            continue
        changed = [f for f in FIELDS if getattr(current, f) != item[f]]
        for f in changed:
            setattr(current, f, item[f])
        if changed:
            current.save(update_fields=[*changed, "updated_at"])
        results.append(EstablishmentResult(current, created=False, updated=bool(changed)))
    return results


# --------------------------------------------------------------------------- #
# Alerts: an establishment under an active attack (raised and ended by detection)


def _alert_payload(alert: Alert) -> dict:
    with translation.override(settings.LANGUAGE_CODE):
        reasons = reasons_payload(alert.reasons)
    return {
        "establishment": alert.establishment.external_id,
        "kind": alert.kind,
        "active": alert.ended_at is None,
        "since": alert.since.isoformat(),
        "ended_at": alert.ended_at.isoformat() if alert.ended_at else None,
        "counts": alert.counts,
        "reasons": reasons,
        "case": alert.case_id,
    }


def establishment_alerts_raise(
    *, establishment_ids: Iterable[int], kind: str, seen_at, counts: dict, reasons: list[dict],
    case_id: int | None,
) -> list[int]:
    """Raise an alert of ``kind`` on each establishment, or refresh the active one.

    A few statements whatever the number of establishments (a ring may target a
    hundred). Each alert that starts now is announced once with an
    ``establishment.alert`` webhook. Returns the ids of the alerts started.
    """
    wanted = sorted(set(establishment_ids))
    if not wanted:
        return []
    active = Alert.objects.filter(establishment_id__in=wanted, kind=kind, ended_at__isnull=True)
    known = set(active.values_list("establishment_id", flat=True))
    active.update(last_seen_at=seen_at, counts=counts, reasons=reasons,
                  **({"case_id": case_id} if case_id else {}))
    Alert.objects.bulk_create(
        [Alert(establishment_id=e, kind=kind, since=seen_at, last_seen_at=seen_at, counts=counts,
               reasons=reasons, case_id=case_id) for e in wanted if e not in known],
        ignore_conflicts=True,  # a concurrent batch may start the same alert
    )
    started = list(
        Alert.objects.select_related("establishment__partner")
        .filter(establishment_id__in=[e for e in wanted if e not in known], kind=kind,
                ended_at__isnull=True, since=seen_at)
    )
    webhooks_emit_many(events=[
        WebhookEvent(partner=a.establishment.partner, event="establishment.alert",
                     data=_alert_payload(a), dedupe_key=f"establishment.alert:{a.pk}:started")
        for a in started
    ])
    return [a.pk for a in started]


def establishment_alerts_end(*, quiet_since, case_ids_closed: Iterable[int] = ()) -> int:
    """End active alerts quiet since ``quiet_since`` or whose case was decided; each end
    is announced with an ``establishment.alert`` webhook. Returns how many ended."""
    closed = list(case_ids_closed)
    ended = 0
    now = timezone.now()
    candidates = Alert.objects.select_related("establishment__partner").filter(
        ended_at__isnull=True).filter(Q(last_seen_at__lt=quiet_since) | Q(case_id__in=closed))
    for alert in candidates:
        with transaction.atomic():
            if not Alert.objects.filter(pk=alert.pk, ended_at__isnull=True).update(ended_at=now):
                continue
            alert.ended_at = now
            webhook_emit(
                partner=alert.establishment.partner, event="establishment.alert",
                data=_alert_payload(alert), dedupe_key=f"establishment.alert:{alert.pk}:ended",
            )
            ended += 1
    return ended


# --- Owner invitations -------------------------------------------------------------


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _language(language: str) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if language not in codes:
        raise ApplicationError(
            "validation_error", _("The request is invalid."),
            fields={"language": [_("Must be one of: %(codes)s.") % {"codes": ", ".join(codes)}]},
        )
    return language


@transaction.atomic
def owner_invitation_create(
    *,
    partner: Partner,
    email: str,
    establishments: list[Establishment],
    language: str = settings.LANGUAGE_CODE,
    created_by=None,
) -> OwnerInvitation:
    """Invite an owner of ``establishments`` and e-mail them a one-time link (after commit).

    The link's token is never stored, only its hash; it works once and expires
    after ``OWNER_INVITATION_TTL_HOURS``. A new invitation to the same address
    from the same partner replaces the links still pending, so only the latest
    e-mail works. Raises ApplicationError ``validation_error`` for no
    establishment, another partner's establishment or an unknown language.
    """
    email = BaseUserManager.normalize_email((email or "").strip()).lower()
    language = _language(language)
    if not establishments:
        raise ApplicationError(
            "validation_error", _("The request is invalid."),
            fields={"establishments": [_("Name at least one establishment.")]},
        )
    if any(e.partner_id != partner.id for e in establishments):
        raise ApplicationError("unknown_establishment", _("Unknown establishment."),
                               fields={"establishments": [_("Not one of this partner's.")]})
    now = timezone.now()
    OwnerInvitation.objects.filter(
        partner=partner, email=email, accepted_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    token = secrets.token_urlsafe(32)
    invitation = OwnerInvitation.objects.create(
        partner=partner, email=email, language=language, created_by=created_by,
        token_hash=invitation_token_hash(token),
        expires_at=now + timedelta(hours=settings.OWNER_INVITATION_TTL_HOURS),
    )
    invitation.establishments.set(establishments)
    email_schedule(
        to=email, template="establishments/email/invitation", language=language,
        context={
            "partner": partner.name,
            "establishments": sorted(e.name for e in establishments),
            "path": reverse("portal:invitation", args=[token]),
            "hours": settings.OWNER_INVITATION_TTL_HOURS,
        },
    )
    return invitation


def _pending_invitation(token: str, *, lock: bool = False) -> OwnerInvitation:
    qs = OwnerInvitation.objects.select_related("partner")
    if lock:
        qs = qs.select_for_update()
    invitation = qs.filter(token_hash=invitation_token_hash(token or "")).first()
    if invitation is None or invitation.accepted_at is not None:
        raise ApplicationError("invitation_invalid",
                               _("This invitation link is not valid, or it was already used."),
                               status=404)
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(
            "invitation_expired",
            _("This invitation has expired. Ask your platform to send you a new one."),
            status=410,
        )
    return invitation


def owner_invitation_check(*, token: str) -> OwnerInvitation:
    """The pending invitation of this token; ApplicationError (404, 410) otherwise."""
    return _pending_invitation(token)


@transaction.atomic
def owner_invitation_accept(*, token: str, password: str, first_name: str = "",
                            last_name: str = ""):
    """Redeem an invitation: the owner's account (created, or found by e-mail) gets
    ``password`` and a membership of each invited establishment. Returns the user.

    Whoever holds the link controls the mailbox, as with a password reset, so an
    existing account of that address is the one that receives the memberships.
    The invitation is locked and marked used in the same transaction: a link
    clicked twice at once is redeemed once.
    """
    invitation = _pending_invitation(token, lock=True)
    user_model = get_user_model()
    matches = list(user_model.objects.filter(email__iexact=invitation.email)[:2])
    user = matches[0] if len(matches) == 1 else user_model(
        username=_free_username(invitation.email), email=invitation.email
    )
    if first_name or last_name:
        user.first_name, user.last_name = first_name.strip()[:150], last_name.strip()[:150]
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ApplicationError("validation_error", _("Choose another password."),
                               fields={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save()
    for establishment in invitation.establishments.all():
        owner_membership_add(user=user, establishment=establishment,
                             language=invitation.language)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return user


def _free_username(email: str) -> str:
    user_model = get_user_model()
    base = email[:140]
    candidate, n = base, 1
    while user_model.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def owner_language_set(*, user, language: str) -> int:
    """The language of the owner's e-mails, for every establishment they hold."""
    return OwnerMembership.objects.filter(user=user).update(language=_language(language))


def owner_membership_add(*, user, establishment: Establishment,
                         language: str = settings.LANGUAGE_CODE) -> OwnerMembership:
    """Make ``user`` an owner of ``establishment`` (idempotent)."""
    membership, _created = OwnerMembership.objects.get_or_create(
        user=user, establishment=establishment, defaults={"language": _language(language)}
    )
    return membership
