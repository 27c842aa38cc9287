"""Reviews and reviewers: the only code that writes them.

- Ingestion: validated items in, reviews persisted (idempotent per partner and
  external_id). Every review answered 201 is committed with an ``enqueued_at``;
  scheduling its scoring is the caller's business (apps.detection), and the
  periodic sweep re-enqueues anything left pending, so nothing accepted is lost.
- Verdicts: scores applied in one statement, holds, moderators' decisions;
  each status change is a guarded UPDATE and tells the partner by webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone, translation

from apps.core.db import rows_by_external_id
from apps.core.exceptions import ApplicationError
from apps.core.observability import SCORING_LATENCY
from apps.core.reasons import merge_reason_records, reasons_payload
from apps.establishments.models import Establishment
from apps.establishments.selectors import establishment_ids_by_external_id
from apps.partners.models import Partner
from apps.partners.services import WebhookEvent, webhook_emit, webhooks_emit_many

from . import pii
from .models import Review, Reviewer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemResult:
    index: int
    external_id: str
    status: int  # 201 created, 200 already stored with the same payload, 409 conflict
    review_id: int | None
    #: For a review this call stored (201): the row as stored, with the public fields
    #: of its establishment and reviewer, so a caller can answer without reading it back.
    review: Review | None = field(default=None, compare=False, repr=False)


def _sent_values(value):
    """The payload without empty optional values (None, "", {}), recursively.

    An optional field the partner did not send validates to its default; leaving
    defaults out keeps a fingerprint stable when the API gains an optional field,
    so re-sending an unchanged review stays a 200, never a 409.
    """
    if isinstance(value, dict):
        kept = {k: _sent_values(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", {})}
    return value


def _keyed_hash(material) -> str:
    canonical = json.dumps(material, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    key = settings.PII_HASH_KEY.encode()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


#: Fingerprints are prefixed with their version; unprefixed ones are version 1
#: (every validated key, defaults included) and still match their payloads.
FINGERPRINT_VERSION = "v2"


#: Keys that say how to process a review, not what it is: re-sending a review
#: with another value is the same review.
PROCESSING_KEYS = frozenset({"historical"})


def _identity(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in PROCESSING_KEYS}


def payload_fingerprint(item: dict) -> str:
    """Keyed hash of the canonical payload as sent (so it leaks no PII)."""
    return f"{FINGERPRINT_VERSION}:{_keyed_hash(_sent_values(_identity(item)))}"[:64]


def same_payload(stored: str, item: dict, fingerprint: str) -> bool:
    """Whether a stored fingerprint (any version) is that of ``item``."""
    if stored.startswith(f"{FINGERPRINT_VERSION}:"):
        return stored == fingerprint
    return stored == _keyed_hash(_identity(item))  # version 1


def _upsert_reviewers(*, partner: Partner, items: list[dict]) -> dict[str, tuple[int, str]]:
    """(id, display name) of each item's reviewer by external_id; new reviewers
    created, changed ones updated.

    Runs before the reviews are inserted, in its own short transaction, and
    touches rows in external_id order: two concurrent batches sharing reviewers
    then wait on each other briefly instead of deadlocking (a reviewer stored
    without its review, if the review insert fails, is harmless and reused on
    retry). An identifier missing from a later payload does not erase the one
    we have.
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
    if connection.vendor == "postgresql":
        return _upsert_reviewers_in_one_statement(partner=partner, wanted=wanted)
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
    return _reviewers_by_external_id(partner=partner, external_ids=wanted)


def _reviewers_by_external_id(*, partner: Partner, external_ids) -> dict[str, tuple[int, str]]:
    return {ext: (rid, name) for ext, rid, name in rows_by_external_id(
        Reviewer, partner_id=partner.pk, external_ids=external_ids,
        columns=("id", "display_name"))}


def _upsert_reviewers_in_one_statement(
    *, partner: Partner, wanted: dict[str, dict]
) -> dict[str, tuple[int, str]]:
    """``_upsert_reviewers`` on PostgreSQL: one INSERT … ON CONFLICT DO UPDATE.

    The ORM needed four queries, each compiled for every request (read,
    insert, update, read the ids again; bench/RESULTS.md, issue 14). An update happens
    only where a non-empty identifier differs, as before, so an unchanged
    reviewer's row is not rewritten; such rows are not returned by the INSERT,
    so the same statement also reads the partner's rows among ``wanted`` (as
    they were when it started: a row updated here appears twice, the updated
    version wins). A reviewer inserted by a concurrent request after that
    start, and unchanged by us, is in neither part: read again at the end.
    """
    now = timezone.now()
    rows = [Reviewer(partner=partner, external_id=ext, created_at=now, **v)
            for ext, v in wanted.items()]  # external_id order (see _upsert_reviewers)
    fields = [f for f in Reviewer._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(Reviewer._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    values, params = _values_of(rows, fields)
    name, email, created = (quote(c) for c in ("display_name", "email_hash", "account_created_at"))
    # Identifiers come from the model's metadata, quoted; values are parameters.
    sql = (
        f"WITH upserted AS (INSERT INTO {table} AS r ({columns}) VALUES {values} "  # noqa: S608
        "ON CONFLICT (partner_id, external_id) DO UPDATE SET "
        f"{name} = CASE WHEN EXCLUDED.{name} <> '' THEN EXCLUDED.{name} ELSE r.{name} END, "
        f"{email} = CASE WHEN EXCLUDED.{email} <> '' THEN EXCLUDED.{email} ELSE r.{email} END, "
        f"{created} = COALESCE(EXCLUDED.{created}, r.{created}) "
        f"WHERE (EXCLUDED.{name} <> '' AND EXCLUDED.{name} <> r.{name}) "
        f"OR (EXCLUDED.{email} <> '' AND EXCLUDED.{email} <> r.{email}) "
        f"OR (EXCLUDED.{created} IS NOT NULL AND EXCLUDED.{created} IS DISTINCT FROM r.{created}) "
        f"RETURNING id, external_id, {name}) "
        f"SELECT 1, id, external_id, {name} FROM upserted UNION ALL "
        f"SELECT 0, id, external_id, {name} FROM {table} "
        "WHERE partner_id = %s AND external_id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, partner.pk, list(wanted)])
        found: dict[str, tuple[int, str]] = {}
        for written, rid, ext, display_name in cursor.fetchall():
            if written or ext not in found:
                found[ext] = (rid, display_name)
    missing = set(wanted) - set(found)
    if missing:
        found.update(_reviewers_by_external_id(partner=partner, external_ids=missing))
    return found


def _prepared(row, fields) -> list:
    """``row``'s values for ``fields``, as Django's own INSERT prepares them."""
    return [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]


def _values_of(rows, fields) -> tuple[str, list]:
    """A VALUES list of placeholders for ``rows`` and its parameters."""
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return ", ".join([row] * len(rows)), [v for r in rows for v in _prepared(r, fields)]


def _stored_reviews(*, partner: Partner, external_ids) -> dict[str, tuple[int, str]]:
    """external_id -> (id, payload_hash) of the partner's stored reviews among ``external_ids``."""
    return {ext: (rid, fp) for ext, rid, fp in rows_by_external_id(
        Review, partner_id=partner.pk, external_ids=external_ids, columns=("id", "payload_hash"))}


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
        historical=bool(item.get("historical")),
    )


#: Below this many rows a plain INSERT is fewer round trips than the COPY stage.
COPY_MIN_ROWS = 50


def _insert_new_reviews(reviews: list[Review]) -> dict[str, tuple[int, str]]:
    """Insert reviews, skipping any a concurrent request stored first.

    Returns external_id -> (id, payload_hash) of the rows this call inserted,
    and sets their ``id``. Committed when it returns (unless the caller holds a
    transaction). On PostgreSQL one INSERT … ON CONFLICT DO NOTHING RETURNING
    does it: with the rows as VALUES for a few (a single review POST), and for
    more through a COPY into a temporary stage, as Django's bulk_create spends
    most of bulk ingest's CPU compiling and quoting 1,000-row VALUES lists, then
    needs a second query for the ids (bench/RESULTS.md, issue 3, R2).
    """
    if not reviews:
        return {}
    if connection.vendor != "postgresql":
        Review.objects.bulk_create(reviews, ignore_conflicts=True)
        inserted = _stored_reviews(partner=reviews[0].partner,
                                   external_ids={r.external_id for r in reviews})
    else:
        inserted = _insert_returning(reviews)
    for review in reviews:
        if review.external_id in inserted:
            review.id = inserted[review.external_id][0]
            review._state.adding = False
            review._state.db = connection.alias
    return inserted


def _insert_returning(reviews: list[Review]) -> dict[str, tuple[int, str]]:
    # Identifiers below come from the model's own metadata, quoted; values go
    # through parameters or COPY, never into the SQL text.
    fields = [f for f in Review._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Review._meta.db_table)
    on_conflict = (
        "ON CONFLICT (partner_id, external_id) DO NOTHING RETURNING id, external_id, payload_hash"
    )
    if len(reviews) < COPY_MIN_ROWS:
        values, params = _values_of(reviews, fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} {on_conflict}",  # noqa: S608
                params,
            )
            return {ext: (rid, fp) for rid, ext, fp in cursor.fetchall()}
    create_stage = (
        "CREATE TEMP TABLE IF NOT EXISTS review_ingest_stage ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    move_to_table = (
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM review_ingest_stage "  # noqa: S608
        f"{on_conflict}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        raw.execute(create_stage)
        with raw.copy(f"COPY review_ingest_stage ({columns}) FROM STDIN") as copy:
            for review in reviews:
                copy.write_row(_prepared(review, fields))
        raw.execute(move_to_table)
        inserted = {ext: (rid, fp) for rid, ext, fp in raw.fetchall()}
        raw.execute("DELETE FROM review_ingest_stage")  # the connection may be reused in-transaction
    return inserted


def _as_answered(review: Review, *, establishment_external_id: str,
                 reviewer: tuple[int, str], reviewer_external_id: str) -> Review:
    """``review`` with its establishment and reviewer attached as far as the API shows
    them (external ids, the reviewer's display name as stored); their other fields
    are deferred, so reading one loads it from the database, never a blank.
    ``from_db`` takes the loaded values in the model's field order."""
    review.establishment = Establishment.from_db(
        connection.alias, ["id", "partner_id", "external_id"],
        [review.establishment_id, review.partner_id, establishment_external_id])
    review.reviewer = Reviewer.from_db(
        connection.alias, ["id", "partner_id", "external_id", "display_name"],
        [reviewer[0], review.partner_id, reviewer_external_id, reviewer[1]])
    return review


def reviews_ingest(*, partner: Partner, items: list[dict]) -> list[ItemResult]:
    """Persist validated review payloads idempotently; answer per item, in order.

    Every review answered 201 is committed when this returns (unless the caller
    holds a transaction) and comes back in its result as stored. Raises
    ApplicationError("unknown_establishment") naming every item whose
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
    stored = _stored_reviews(partner=partner, external_ids={item["external_id"] for item in items})
    # A review stored in the meantime by a concurrent request is caught by the
    # insert (ON CONFLICT: not inserted, read below), not by reading again first.
    fresh = _first_index_of_new(items, stored)
    new: dict[str, Review] = {}
    reviewers: dict[str, tuple[int, str]] = {}
    inserted: dict[str, tuple[int, str]] = {}
    created: dict[str, tuple[int, str]] = {}
    if fresh:
        reviewers = _upsert_reviewers(partner=partner, items=[items[i] for i in fresh.values()])
        now = timezone.now()
        # external_id order, so concurrent batches never deadlock on the index
        for ext, i in sorted(fresh.items()):
            new[ext] = _new_review(
                partner=partner,
                item=items[i],
                establishment_id=establishments[items[i]["establishment"]],
                reviewer_id=reviewers[items[i]["reviewer"]["external_id"]][0],
                fingerprint=fingerprints[i],
                now=now,
            )
        inserted = _insert_new_reviews(list(new.values()))
        created = dict(inserted)
        if len(created) < len(fresh):  # a concurrent request stored some first
            created.update(_stored_reviews(partner=partner, external_ids=set(fresh) - set(created)))

    results: list[ItemResult] = []
    for index, item in enumerate(items):
        ext = item["external_id"]
        if ext in fresh and fresh[ext] == index and created[ext][1] == fingerprints[index]:
            review = None
            if ext in inserted:  # ours, not a concurrent request's twin
                review = _as_answered(
                    new[ext], establishment_external_id=item["establishment"],
                    reviewer=reviewers[item["reviewer"]["external_id"]],
                    reviewer_external_id=item["reviewer"]["external_id"])
            results.append(ItemResult(index, ext, 201, created[ext][0], review))
            continue
        rid, fp = stored.get(ext) or created[ext]
        same = same_payload(fp, item, fingerprints[index])
        results.append(ItemResult(index, ext, 200 if same else 409, rid))
    return results


#: Rows re-marked per statement by the sweep: short transactions, few locks.
MARK_CHUNK = 1000


def reviews_mark_enqueued(*, review_ids: list[int]) -> list[int]:
    """Stamp ``enqueued_at`` on the still-pending reviews among ``review_ids``.

    In chunks of ``MARK_CHUNK``, each its own short transaction, skipping rows a
    worker has locked (it is scoring them right now): the sweep never waits on,
    nor blocks, a scoring batch. Returns the ids stamped (the ones to enqueue).
    """
    stamped: list[int] = []
    for start in range(0, len(review_ids), MARK_CHUNK):
        chunk = review_ids[start : start + MARK_CHUNK]
        with transaction.atomic():
            free = list(
                Review.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(id__in=chunk, status=Review.Status.PENDING)
                .values_list("id", flat=True)
            )
            Review.objects.filter(id__in=free).update(enqueued_at=timezone.now())
        stamped.extend(free)
    return stamped


# --------------------------------------------------------------------------- #
# Verdicts and status changes


def review_status_payload(review: Review, previous: str) -> dict:
    """The ``review.status_changed`` body; reasons in the one output shape.

    Webhooks have no reader's language: they speak the service's default.
    """
    with translation.override(settings.LANGUAGE_CODE):
        reasons = reasons_payload(review.risk_reasons or [])
    return {
        "external_id": review.external_id,
        "status": review.status,
        "previous_status": previous,
        "risk": {"score": review.risk_score, "reasons": reasons},
    }


@dataclass(frozen=True)
class ScoredReview:
    """A verdict from detection for one pending review."""

    review_id: int
    risk_score: float
    reasons: list[dict]  # stored reason records, strongest first
    status: str  # Review.Status.PUBLISHED or HELD
    language: str = ""  # guessed language, for reviews sent without one
    model_version: str = ""  # the calibrated model that scored it ("": built-in weights)


def reviews_lock_pending(*, review_ids: list[int], fill_to: int = 0, historical: bool = False,
                         waited: float = 0.0) -> list[Review]:
    """The still-pending reviews among ``review_ids``, locked for this transaction.

    Rows another worker holds are skipped (it is scoring them), so two
    deliveries of one batch never score a review twice. Call inside atomic().
    The lock is FOR NO KEY UPDATE: it excludes other scorers and the sweep,
    but not a foreign-key check, so another batch adding these reviews to a
    case does not wait at its commit for this batch to end.

    ``fill_to``: when fewer are found, the batch is filled up to that many with
    the oldest other reviews waiting to be scored for at least ``waited``
    seconds (live or ``historical`` as asked; never one that failed before or
    was dead-lettered). Under a backlog a task then scores a full batch
    whatever its own message carried (a queue of single POSTs no longer costs a
    batch's fixed work per review), and the messages of the reviews it took
    find nothing left to do. Reviews that just arrived are left to their own
    messages: without a backlog, batches stay as they were sent and the worker
    processes share them.
    """
    pending = Review.objects.select_for_update(skip_locked=True, of=("self",), no_key=True).select_related(
        "partner", "reviewer")
    locked = list(pending.filter(id__any=review_ids, status=Review.Status.PENDING).order_by("id"))
    room = fill_to - len(locked)
    if room > 0:
        # Lock the ids first, then read the rows with their partner and reviewer:
        # joining before the LIMIT joined the whole backlog (seen: 100 ms a batch).
        more = list(Review.objects.select_for_update(skip_locked=True, no_key=True).filter(
            status=Review.Status.PENDING, dead_lettered_at__isnull=True, historical=historical,
            scoring_attempts=0, received_at__lte=timezone.now() - timedelta(seconds=waited),
        ).exclude(id__any=[r.id for r in locked]).order_by("id").values_list("id", flat=True)[:room])
        if more:
            locked += Review.objects.filter(id__any=more).select_related("partner", "reviewer")
            locked.sort(key=lambda r: r.id)
    return locked


def reviews_apply_scores(*, scored: list[ScoredReview], reviews: list[Review],
                         notify: bool = True) -> list[Review]:
    """Write the verdicts of pending ``reviews`` and tell their partners.

    One bulk UPDATE of the rows the caller locked. Each partner hears of its
    reviews in the same transaction, as it chose: one ``review.status_changed``
    per review, or one signed ``reviews.scored`` per batch of up to 1,000.
    ``notify=False`` (a historical backfill) sends nothing. Returns the
    reviews that moved, updated.
    """
    by_id = {r.id: r for r in reviews}
    now = timezone.now()
    changed: list[Review] = []
    for verdict in scored:
        review = by_id[verdict.review_id]
        if review.status != Review.Status.PENDING:
            continue
        review.risk_score = verdict.risk_score
        review.risk_reasons = verdict.reasons
        review.scored_at = review.status_changed_at = now
        review.status = verdict.status
        if not review.language and verdict.language:
            review.language = verdict.language
        review.model_version = verdict.model_version
        changed.append(review)
    _write_verdicts(changed, now)
    if notify:
        # One observe per review from what is in memory (no query); a backfill's
        # reviews were written long before and would drown the live figure.
        for review in changed:
            if review.received_at is not None:
                SCORING_LATENCY.observe(max(0.0, (now - review.received_at).total_seconds()))
        webhooks_emit_many(events=_scored_events(changed))
    return changed


def _write_verdicts(reviews: list[Review], now) -> None:
    """One UPDATE for every verdict. On PostgreSQL the values travel as arrays
    (``UPDATE … FROM unnest(…)``): Django's bulk_update builds a CASE per row and
    column, which cost more than the scoring itself (bench/RESULTS.md, issue 14)."""
    if not reviews:
        return
    if connection.vendor != "postgresql":
        Review.objects.bulk_update(
            reviews,
            ["risk_score", "risk_reasons", "scored_at", "status", "status_changed_at", "language",
             "model_version"],
            batch_size=500,
        )
        return
    table = connection.ops.quote_name(Review._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} AS r SET risk_score = v.risk, risk_reasons = v.reasons,
                       status = v.status, language = v.language, model_version = v.model,
                       scored_at = %s, status_changed_at = %s
                FROM unnest(%s::bigint[], %s::float8[], %s::jsonb[], %s::text[], %s::text[],
                            %s::text[])
                     AS v(id, risk, reasons, status, language, model)
                WHERE r.id = v.id""",  # noqa: S608 - the table name comes from the model
            [now, now, [r.id for r in reviews], [r.risk_score for r in reviews],
             [json.dumps(r.risk_reasons) for r in reviews], [r.status for r in reviews],
             [r.language for r in reviews], [r.model_version for r in reviews]],
        )


#: Items in one ``reviews.scored`` event.
SCORED_EVENT_MAX_ITEMS = 1000


def _scored_events(reviews: list[Review]) -> list[WebhookEvent]:
    per_review, batched = [], defaultdict(list)
    for review in reviews:
        if review.partner.scored_events == Partner.ScoredEvents.BATCHED:
            batched[review.partner_id].append(review)
        else:
            per_review.append(WebhookEvent(
                partner=review.partner,
                event="review.status_changed",
                data=review_status_payload(review, Review.Status.PENDING),
                dedupe_key=f"review.status_changed:{review.pk}:pending->{review.status}",
            ))
    for group in batched.values():
        for start in range(0, len(group), SCORED_EVENT_MAX_ITEMS):
            chunk = group[start : start + SCORED_EVENT_MAX_ITEMS]
            ids = ",".join(str(r.pk) for r in chunk)
            digest = hashlib.sha256(ids.encode()).hexdigest()[:24]
            per_review.append(WebhookEvent(
                partner=chunk[0].partner,
                event="reviews.scored",
                data={"reviews": [
                    {k: v for k, v in review_status_payload(r, Review.Status.PENDING).items()
                     if k != "previous_status"} for r in chunk]},
                dedupe_key=f"reviews.scored:{chunk[0].pk}:{len(chunk)}:{digest}",
            ))
    return per_review


def review_hold(*, review_id: int, risk_score: float, reasons: list[dict]) -> bool:
    """Hold a pending or published review for a moderator, adding new reasons.

    Never removes anything. The review keeps what scoring found; the new
    reasons join them and the risk only rises. True if the review moved.
    """
    review = Review.objects.select_related("partner").filter(id=review_id).first()
    if review is None or review.status not in (Review.Status.PENDING, Review.Status.PUBLISHED):
        return False
    previous = review.status
    now = timezone.now()
    merged = merge_reason_records(reasons, review.risk_reasons or [])
    risk = max(review.risk_score or 0.0, round(risk_score, 4))
    moved = Review.objects.filter(id=review.id, status=previous).update(
        status=Review.Status.HELD, status_changed_at=now, risk_reasons=merged, risk_score=risk,
        scored_at=review.scored_at or now,
    )
    if not moved:
        return False
    review.status, review.risk_reasons, review.risk_score = Review.Status.HELD, merged, risk
    webhook_emit(
        partner=review.partner,
        event="review.status_changed",
        data=review_status_payload(review, previous),
        dedupe_key=f"review.status_changed:{review.pk}:{previous}->{review.status}",
    )
    return True


def reviews_apply_decision(
    *, review_ids: list[int], status: str, allowed_from: tuple[str, ...], case_id: int,
    decision_token: str,
) -> dict[int, tuple[str, str]]:
    """A moderator's decision on a case's reviews: each one still in ``allowed_from``
    moves to ``status``, and its partner hears of it once (deduplicated per decision).

    Returns review id -> (before, after) for the reviews that moved.
    """
    moved: dict[int, tuple[str, str]] = {}
    now = timezone.now()
    for review in Review.objects.select_related("partner").filter(
        id__in=review_ids, status__in=allowed_from
    ).order_by("id"):
        previous = review.status
        if not Review.objects.filter(id=review.id, status=previous).update(
            status=status, status_changed_at=now
        ):
            continue  # moved meanwhile by someone else
        review.status = status
        moved[review.id] = (previous, status)
        webhook_emit(
            partner=review.partner,
            event="review.status_changed",
            data={**review_status_payload(review, previous), "case": case_id},
            dedupe_key=f"review.status_changed:{review.pk}:decision-{decision_token}",
        )
    return moved


def reviewers_flag(*, reviewer_ids: set[int] | list[int]) -> list[int]:
    """Mark reviewers confirmed abusive by a moderator; returns those newly flagged."""
    flagged = sorted(
        Reviewer.objects.filter(id__in=list(reviewer_ids), flagged=False).values_list(
            "id", flat=True
        )
    )
    Reviewer.objects.filter(id__in=flagged).update(flagged=True)
    return flagged


# --------------------------------------------------------------------------- #
# Scoring failures


def review_record_scoring_failure(*, review_id: int, error: str, max_attempts: int) -> bool:
    """Count a failed scoring attempt of a still-pending review; after
    ``max_attempts`` it is dead-lettered. True when it was dead-lettered now."""
    now = timezone.now()
    with transaction.atomic():
        review = (Review.objects.select_for_update(no_key=True)
                  .filter(id=review_id, status=Review.Status.PENDING).first())
        if review is None:
            return False
        review.scoring_attempts += 1
        review.scoring_error = error[:5000]
        fields = ["scoring_attempts", "scoring_error"]
        if review.scoring_attempts >= max_attempts and review.dead_lettered_at is None:
            review.dead_lettered_at = now
            fields.append("dead_lettered_at")
        review.save(update_fields=fields)
        return "dead_lettered_at" in fields


def reviews_retry_dead_lettered(*, review_ids: list[int]) -> list[int]:
    """Give dead-lettered reviews a fresh start; returns the ids to enqueue again."""
    ids = list(Review.objects.filter(id__in=review_ids, status=Review.Status.PENDING,
                                     dead_lettered_at__isnull=False).values_list("id", flat=True))
    Review.objects.filter(id__in=ids).update(
        dead_lettered_at=None, scoring_attempts=0, scoring_error="", enqueued_at=timezone.now()
    )
    return ids


def reviewers_set_anomaly_ranks(*, ranks: dict[int, float]) -> int:
    """Replace the stored anomaly ranks with ``ranks`` (reviewer id -> rank in [0, 1])."""
    with transaction.atomic():
        Reviewer.objects.filter(anomaly_rank__isnull=False).exclude(id__in=list(ranks)).update(
            anomaly_rank=None)
        for reviewer_id, rank in sorted(ranks.items()):
            Reviewer.objects.filter(id=reviewer_id).update(anomaly_rank=round(float(rank), 4))
    return len(ranks)
