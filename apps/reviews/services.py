"""Review ingestion: validated items in, reviews persisted, scoring scheduled.

Every review answered 201 is committed before the response and carries an
``enqueued_at``; its scoring task is published after commit, and if the
broker is down the periodic sweep re-enqueues it, so nothing accepted is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.establishments.selectors import establishment_ids_by_external_id
from apps.partners.models import Partner

from . import pii
from .models import Review, Reviewer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemResult:
    index: int
    external_id: str
    status: int  # 201 created, 200 already stored with the same payload, 409 conflict
    review_id: int | None


def payload_fingerprint(item: dict) -> str:
    """Keyed hash of the canonical validated payload (so it leaks no PII)."""
    canonical = json.dumps(item, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    key = settings.PII_HASH_KEY.encode()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _upsert_reviewers(*, partner: Partner, items: list[dict]) -> dict[str, int]:
    """Reviewer ids by external_id; new reviewers created, changed ones updated.

    Runs in its own short transaction, before the reviews' one, and touches rows
    in external_id order: two concurrent batches sharing reviewers then wait on
    each other briefly instead of deadlocking (a reviewer stored without its
    review, if the review transaction fails, is harmless and reused on retry).
    An identifier missing from a later payload does not erase the one we have.
    """
    latest: dict[str, dict] = {}
    for item in items:
        latest[item["reviewer"]["external_id"]] = item["reviewer"]
    wanted = {
        ext: {
            "display_name": r["display_name"],
            "email_hash": pii.email_hash(r["email"]),
            "account_created_at": r["account_created_at"],
        }
        for ext, r in sorted(latest.items())
    }
    with transaction.atomic():
        existing = {
            row["external_id"]: row
            for row in Reviewer.objects.filter(partner=partner, external_id__in=wanted).values(
                "id", "external_id", "display_name", "email_hash", "account_created_at"
            )
        }
        Reviewer.objects.bulk_create(
            [Reviewer(partner=partner, external_id=ext, **v) for ext, v in wanted.items()
             if ext not in existing],
            ignore_conflicts=True,  # a concurrent batch may create the same reviewer
        )
        for ext in sorted(existing):
            row = existing[ext]
            changes = {k: v for k, v in wanted[ext].items() if v and v != row[k]}
            if changes:
                Reviewer.objects.filter(id=row["id"]).update(**changes)
    return dict(
        Reviewer.objects.filter(partner=partner, external_id__in=wanted).values_list(
            "external_id", "id"
        )
    )


def _stored_reviews(*, partner: Partner, external_ids) -> dict[str, tuple[int, str]]:
    """external_id -> (id, payload_hash) of the partner's stored reviews among ``external_ids``."""
    return {
        ext: (rid, fp)
        for rid, ext, fp in Review.objects.filter(
            partner=partner, external_id__in=external_ids
        ).values_list("id", "external_id", "payload_hash")
    }


def _first_index_of_new(items: list[dict], stored: dict) -> dict[str, int]:
    """external_id -> index of its first item in the batch, for reviews not stored yet."""
    fresh: dict[str, int] = {}
    for index, item in enumerate(items):
        ext = item["external_id"]
        if ext not in stored and ext not in fresh:
            fresh[ext] = index
    return fresh


def _new_review(*, partner: Partner, item: dict, establishment_id: int, reviewer_id: int,
                fingerprint: str, now) -> Review:
    reviewer = item["reviewer"]
    ip_hash, ip24_hash = pii.ip_hashes(reviewer["ip"])
    return Review(
        partner=partner,
        external_id=item["external_id"],
        establishment_id=establishment_id,
        reviewer_id=reviewer_id,
        rating=item["rating"],
        title=item["title"],
        text=item["text"],
        language=item["language"],
        visit_date=item["visit_date"],
        created_at=item["created_at"],
        ip_hash=ip_hash,
        ip24_hash=ip24_hash,
        device_hash=pii.device_hash(reviewer["device_id"]),
        booking_ref_hash=pii.booking_ref_hash(item["booking_ref"]),
        payload_hash=fingerprint,
        enqueued_at=now,
    )


#: Below this many rows a plain INSERT is fewer round trips than the COPY stage.
COPY_MIN_ROWS = 50


def _insert_new_reviews(reviews: list[Review]) -> dict[str, tuple[int, str]]:
    """Insert reviews, skipping any a concurrent request stored first.

    Returns external_id -> (id, payload_hash) of the rows this call inserted.
    On PostgreSQL the rows are COPYed into a temporary stage and moved with one
    INSERT … ON CONFLICT DO NOTHING RETURNING: Django's bulk_create spends most
    of bulk ingest's CPU compiling and quoting 1,000-row VALUES lists, then needs
    a second query for the ids (bench/RESULTS.md, issue 3, R2).
    """
    if not reviews:
        return {}
    if connection.vendor != "postgresql" or len(reviews) < COPY_MIN_ROWS:
        Review.objects.bulk_create(reviews, ignore_conflicts=True)
        return _stored_reviews(partner=reviews[0].partner, external_ids={r.external_id for r in reviews})
    # Identifiers below come from the model's own metadata, quoted; values go
    # through COPY, never into the SQL text.
    fields = [f for f in Review._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Review._meta.db_table)
    create_stage = (
        "CREATE TEMP TABLE IF NOT EXISTS review_ingest_stage ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    move_to_table = (
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM review_ingest_stage "  # noqa: S608
        "ON CONFLICT (partner_id, external_id) DO NOTHING RETURNING id, external_id, payload_hash"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        raw.execute(create_stage)
        with raw.copy(f"COPY review_ingest_stage ({columns}) FROM STDIN") as copy:
            for review in reviews:
                copy.write_row(  # as Django's own INSERT prepares values
                    [f.get_db_prep_save(f.pre_save(review, add=True), connection) for f in fields]
                )
        raw.execute(move_to_table)
        inserted = {ext: (rid, fp) for rid, ext, fp in raw.fetchall()}
        raw.execute("DELETE FROM review_ingest_stage")  # the connection may be reused in-transaction
    return inserted


def reviews_ingest(*, partner: Partner, items: list[dict]) -> list[ItemResult]:
    """Persist validated review payloads idempotently; answer per item, in order.

    Raises ApplicationError("unknown_establishment") naming every item whose
    establishment the partner has not registered; then nothing is stored.
    """
    establishments = establishment_ids_by_external_id(
        partner=partner, external_ids={item["establishment"] for item in items}
    )
    unknown = {
        str(i): {"establishment": [f"Unknown establishment {item['establishment']!r}."]}
        for i, item in enumerate(items)
        if item["establishment"] not in establishments
    }
    if unknown:
        raise ApplicationError(
            "unknown_establishment",
            "Register establishments (POST /api/v1/establishments/) before their reviews.",
            fields=unknown if len(items) > 1 else unknown["0"],
        )

    fingerprints = [payload_fingerprint(item) for item in items]
    external_ids = {item["external_id"] for item in items}
    maybe_new = _first_index_of_new(items, _stored_reviews(partner=partner, external_ids=external_ids))
    reviewer_ids = (
        _upsert_reviewers(partner=partner, items=[items[i] for i in maybe_new.values()])
        if maybe_new
        else {}
    )
    with transaction.atomic():
        # Read again inside the transaction: only what is still new is inserted.
        stored = _stored_reviews(partner=partner, external_ids=external_ids)
        fresh = _first_index_of_new(items, stored)
        now = timezone.now()
        created: dict[str, tuple[int, str]] = {}
        if fresh:
            created = _insert_new_reviews(
                [
                    _new_review(
                        partner=partner,
                        item=items[i],
                        establishment_id=establishments[items[i]["establishment"]],
                        reviewer_id=reviewer_ids[items[i]["reviewer"]["external_id"]],
                        fingerprint=fingerprints[i],
                        now=now,
                    )
                    # external_id order, so concurrent batches never deadlock on the index
                    for _, i in sorted(fresh.items())
                ]
            )
            if len(created) < len(fresh):  # a concurrent request stored some first
                created.update(_stored_reviews(partner=partner, external_ids=set(fresh) - set(created)))

        results: list[ItemResult] = []
        for index, item in enumerate(items):
            ext = item["external_id"]
            if ext in fresh and fresh[ext] == index and created[ext][1] == fingerprints[index]:
                results.append(ItemResult(index, ext, 201, created[ext][0]))
                continue
            rid, fp = stored.get(ext) or created[ext]
            results.append(ItemResult(index, ext, 200 if fp == fingerprints[index] else 409, rid))

        new_ids = [r.review_id for r in results if r.status == 201]
        if new_ids:
            transaction.on_commit(lambda: enqueue_scoring(review_ids=new_ids), robust=True)
    return results


def enqueue_scoring(*, review_ids: list[int]) -> None:
    """Publish scoring tasks in batches; a failure is logged and left to the sweep."""
    from apps.detection.tasks import score_reviews

    size = settings.SCORING_BATCH_SIZE
    for start in range(0, len(review_ids), size):
        chunk = review_ids[start : start + size]
        try:
            score_reviews.delay(chunk)
        except Exception:
            # The reviews are committed and pending; the sweep will enqueue them.
            logger.warning("broker unavailable; %d reviews left to the sweep", len(chunk), exc_info=True)
            return


@transaction.atomic
def reviews_mark_enqueued(*, review_ids: list[int]) -> int:
    return Review.objects.filter(id__in=review_ids, status=Review.Status.PENDING).update(
        enqueued_at=timezone.now()
    )


def review_set_status(*, review: Review, status: str, allowed_from: tuple[str, ...]) -> bool:
    """Guarded transition: UPDATE … WHERE status IN allowed_from. True if it moved."""
    now = timezone.now()
    moved = Review.objects.filter(id=review.id, status__in=allowed_from).update(
        status=status, status_changed_at=now
    )
    if moved:
        review.status, review.status_changed_at = status, now
    return bool(moved)
