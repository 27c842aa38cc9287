"""The one loader from the database to the column arrays ml/ takes.

Per-review scoring, the reconciliation batch and report linkage all read
reviews here, so an identifier means the same code everywhere: a keyed hash
(64 hex digits, apps.reviews.pii) becomes the integer made of its first 15 hex
digits (60 bits; "" is -1), computed by PostgreSQL itself so only an integer
crosses the wire. Reviews are read as plain values, in chunks from a
server-side cursor, without a join: reviewer columns are read once per
reviewer and spread with numpy (a join costs more than the rest of the read
on a million rows), and a million reviews never become model instances.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
from django.db import connection
from django.utils import timezone

from apps.core.db import bigint_array
from apps.reviews.models import Review, Reviewer
from ml.features import ReviewColumns


class Progress(Protocol):
    """What the command's progress bar implements; the Celery task passes none."""

    def stage(self, name: str, total: int | None = None) -> None: ...
    def describe(self, text: str) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def describe(self, text: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


# --- Identifier codes ---------------------------------------------------------------


def code_of(value: str | None) -> int:
    """A 64-hex-digit identifier hash -> a 60-bit integer code; "" or NULL -> -1."""
    return int(value[:15], 16) if value else -1


def codes_of(values: Sequence[str | None]) -> np.ndarray:
    return np.fromiter((code_of(v) for v in values), dtype=np.int64, count=len(values))


def scoped_code(scope: int, value: str | None) -> int:
    """The code of an identifier that means something only within ``scope`` (a
    reviewer handle is a name on one partner's site); "" -> -1."""
    if not value:
        return -1
    return code_of(hashlib.sha256(f"{scope}:{value}".encode()).hexdigest())


def _sql_code(column: str) -> str:
    """``code_of`` computed by PostgreSQL."""
    return (f"CASE WHEN {column} = '' THEN -1 "
            f"ELSE ('x' || substr({column}, 1, 15))::bit(60)::bigint END")


# --- The frame ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFrame:
    """Reviews as columns: database ids beside the ml/ columns, row-aligned, by id."""

    review_ids: np.ndarray  # int64
    partner_ids: np.ndarray  # int64
    booking_ref: np.ndarray  # int64 codes of the booking reference, -1 none
    columns: ReviewColumns  # reviewer / establishment codes are database ids

    def __len__(self) -> int:
        return len(self.review_ids)

    def take(self, rows: np.ndarray) -> ReviewFrame:
        """The frame restricted to ``rows`` (indices or a boolean mask), in that order."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        cols = self.columns
        values = {}
        for name in cols.__dataclass_fields__:
            column = getattr(cols, name)
            if column is None:
                values[name] = None
            elif isinstance(column, np.ndarray):
                values[name] = column[rows]
            else:
                values[name] = [column[int(i)] for i in rows]
        return ReviewFrame(self.review_ids[rows], self.partner_ids[rows], self.booking_ref[rows],
                           ReviewColumns(**values))

    def rows_of(self, review_ids: Sequence[int]) -> np.ndarray:
        """Row index of each given review id (all must be in the frame)."""
        return np.searchsorted(self.review_ids, np.asarray(review_ids, dtype=np.int64))


class LazyTexts(Sequence):
    """Review texts fetched from the database only for the rows asked for.

    The burst detector compares the texts of a burst's few reviews; holding
    every text of a million reviews for that would cost hundreds of megabytes.
    """

    def __init__(self, review_ids: np.ndarray) -> None:
        self._ids = review_ids
        self._cache: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        review_id = int(self._ids[index])
        if review_id not in self._cache:
            self.prefetch([index])
        return self._cache[review_id]

    def prefetch(self, rows: Sequence[int]) -> None:
        wanted = [int(self._ids[i]) for i in rows if int(self._ids[i]) not in self._cache]
        for start in range(0, len(wanted), 5_000):
            chunk = wanted[start : start + 5_000]
            self._cache.update(Review.objects.filter(id__any=chunk).values_list("id", "text"))


# --- Reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Which reviews to read: every condition given must hold (none given: all)."""

    since: datetime | None = None  # created_at >= since
    ids: Sequence[int] | None = None  # id in ids ...
    reviewers: Sequence[int] | None = None  # ... or reviewer_id in reviewers ...
    establishments: Sequence[int] | None = None  # ... or establishment_id in establishments
    created_after: datetime | None = None  # and created_at >= this ...
    created_before: datetime | None = None  # ... and created_at <= this

    def sql(self) -> tuple[str, list]:
        clauses, params = [], []
        if self.since is not None:
            clauses.append("created_at >= %s")
            params.append(self.since)
        either = []
        for column, values in (("id", self.ids), ("reviewer_id", self.reviewers),
                               ("establishment_id", self.establishments)):
            if values is not None:
                sql, more = _in(column, values)
                either.append(sql)
                params.extend(more)
        if either:
            clauses.append("(" + " OR ".join(either) + ")")
        if self.created_after is not None:
            clauses.append("created_at >= %s")
            params.append(self.created_after)
        if self.created_before is not None:
            clauses.append("created_at <= %s")
            params.append(self.created_before)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _in(column: str, values: Sequence[int]) -> tuple[str, list]:
    values = [int(v) for v in values]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [bigint_array(values)]
    if not values:
        return "0 = 1", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _reviews_sql(*, with_text: bool, where: Where) -> tuple[str, list]:
    table = Review._meta.db_table
    text = "text" if with_text else "''"
    condition, params = where.sql()
    if connection.vendor == "postgresql":
        select = f"""
            SELECT id, partner_id, reviewer_id, establishment_id, rating,
                   extract(epoch FROM created_at)::float8, {_sql_code('booking_ref_hash')},
                   {_sql_code('device_hash')}, {_sql_code('ip_hash')}, {_sql_code('ip24_hash')},
                   {text}
            """  # noqa: S608 - column names are literals here, values go as params
    else:
        select = f"""
            SELECT id, partner_id, reviewer_id, establishment_id, rating, created_at,
                   booking_ref_hash, device_hash, ip_hash, ip24_hash, {text}
            """
    return f"{select} FROM {table} {condition} ORDER BY id", params


def _reviewers_sql(ids: Sequence[int] | None) -> tuple[str, list]:
    table = Reviewer._meta.db_table
    condition, params = ("", []) if ids is None else _in("id", ids)
    condition = f"WHERE {condition}" if condition else ""
    if connection.vendor == "postgresql":
        return (f"SELECT id, extract(epoch FROM account_created_at)::float8, "  # noqa: S608
                f"{_sql_code('email_hash')} FROM {table} {condition} ORDER BY id"), params
    return (f"SELECT id, account_created_at, email_hash FROM {table} "  # noqa: S608
            f"{condition} ORDER BY id"), params


def _epoch(value) -> float:
    if value is None:
        return np.nan
    if isinstance(value, float):
        return value
    if isinstance(value, str):  # SQLite hands raw text to a plain cursor
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _fetch(sql: str, params: list, chunk_size: int, convert, progress: Progress,
           server_side: bool) -> list:
    """Rows (from a server-side cursor on PostgreSQL when large), converted per chunk."""
    parts = []
    cursor_of = connection.chunked_cursor if server_side else connection.cursor
    with cursor_of() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            parts.append(convert(list(zip(*rows, strict=True)), len(rows)))
            progress.advance(len(rows))
    return parts


def _review_chunk(cols: list, n: int) -> list:
    if connection.vendor == "postgresql":
        created = np.asarray(cols[5], dtype=np.float64)
        codes = [np.asarray(cols[k], dtype=np.int64) for k in (6, 7, 8, 9)]
    else:
        created = np.fromiter((_epoch(v) for v in cols[5]), np.float64, n)
        codes = [codes_of(cols[k]) for k in (6, 7, 8, 9)]
    ints = [np.asarray(cols[k], dtype=np.int64) for k in range(4)]
    return [*ints, np.asarray(cols[4], dtype=np.float64), created, *codes, list(cols[10])]


def _reviewer_chunk(cols: list, n: int) -> list:
    return [
        np.asarray(cols[0], dtype=np.int64),
        np.fromiter((_epoch(v) for v in cols[1]), np.float64, n),
        np.fromiter((v if isinstance(v, int) else code_of(v) for v in cols[2]), np.int64, n),
    ]


def review_times(*, establishments: Sequence[int], max_rating: float, since, until
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(review id, establishment id, POSIX seconds) of the reviews of ``establishments``
    rated at most ``max_rating`` in [since, until], as arrays: the burst baseline's
    counts (apps/detection/live.py). One plain statement, times as epochs on
    PostgreSQL (through the ORM, converting ~30,000 datetimes cost a busy batch
    about 0.3 s)."""
    if not len(establishments):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    table = Review._meta.db_table
    condition, params = _in("establishment_id", establishments)
    created = ("extract(epoch FROM created_at)::float8" if connection.vendor == "postgresql"
               else "created_at")
    sql = (f"SELECT id, establishment_id, {created} FROM {table} "  # noqa: S608
           f"WHERE {condition} AND rating <= %s AND created_at >= %s AND created_at <= %s")
    with connection.cursor() as cursor:
        # Ratings are whole stars: an integer bound, so that it matches the bound
        # of the partial index of negative reviews (a float compares as numeric,
        # and the planner cannot use the index).
        cursor.execute(sql, [*params, math.floor(max_rating), since, until])
        rows = cursor.fetchall()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    ids, places, times = zip(*rows, strict=True)
    return (np.fromiter(ids, np.int64, len(rows)), np.fromiter(places, np.int64, len(rows)),
            np.fromiter((_epoch(t) for t in times), np.float64, len(rows)))


_EMPTY_CHUNK = ([np.zeros(0, np.int64)] * 4 + [np.zeros(0)] * 2
                + [np.zeros(0, np.int64)] * 4 + [[]])


def read_reviews(*, where: Where | None = None, chunk_size: int = 20_000,
                 with_text: bool = True, progress: Progress | None = None,
                 count: int | None = None) -> ReviewFrame:
    """The reviews matching ``where`` (all when None), as a frame ordered by id.

    Only the reviewers of those reviews are read, except for a whole-table read.
    """
    where = where or Where()
    progress = progress or NoProgress()
    # Not narrowed to ids, reviewers or establishments: a scan of the table (or of a
    # period of it), streamed from a server-side cursor, with every reviewer.
    whole_table = where.ids is None and where.reviewers is None and where.establishments is None
    progress.stage("reading reviews", total=count)
    merged, texts = review_columns(where=where, chunk_size=chunk_size, with_text=with_text,
                                   progress=progress, server_side=whole_table)
    return frame_of(merged, texts, every_reviewer=whole_table, chunk_size=chunk_size,
                    progress=progress)


def review_columns(*, where: Where, chunk_size: int = 20_000, with_text: bool = True,
                   progress: Progress | None = None, server_side: bool = False
                   ) -> tuple[list[np.ndarray], Sequence[str]]:
    """The review rows matching ``where``, ordered by id, as ten arrays (id,
    partner, reviewer, establishment: int64; rating, created_at in POSIX seconds:
    float64; booking reference, device, IP, /24 codes: int64) and the texts
    (lazy when ``with_text`` is False)."""
    progress = progress or NoProgress()
    sql, params = _reviews_sql(with_text=with_text, where=where)
    parts = _fetch(sql, params, chunk_size, _review_chunk, progress, server_side=server_side)
    parts = parts or [_EMPTY_CHUNK]
    merged = [np.concatenate([p[k] for p in parts]) for k in range(10)]
    texts: Sequence[str] = (
        [t for p in parts for t in p[10]] if with_text else LazyTexts(merged[0])
    )
    return merged, texts


def frame_of(merged: list[np.ndarray], texts: Sequence[str], *, every_reviewer: bool = False,
             chunk_size: int = 20_000, progress: Progress | None = None) -> ReviewFrame:
    """A frame of review columns (``review_columns``' ten, sorted by id) with their
    reviewers' columns read now (every reviewer's, streamed, with ``every_reviewer``)."""
    progress = progress or NoProgress()
    ids, partners, reviewers, establishments, rating, created, booking, device, ip, ip24 = merged
    wanted = None if every_reviewer else np.unique(reviewers).tolist()
    progress.stage("reading reviewers", total=len(wanted) if wanted is not None else None)
    sql, params = _reviewers_sql(wanted)
    people = _fetch(sql, params, chunk_size, _reviewer_chunk, progress,
                    server_side=every_reviewer)
    people = people or [[np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)]]
    person_ids, account, email = (np.concatenate([p[k] for p in people]) for k in range(3))
    where_person = np.searchsorted(person_ids, reviewers)  # ids are sorted: ORDER BY id
    return ReviewFrame(
        review_ids=ids,
        partner_ids=partners,
        booking_ref=booking,
        columns=ReviewColumns(
            reviewer=reviewers,
            establishment=establishments,
            rating=rating,
            created_at=created,
            account_created_at=account[where_person],
            verified_stay=booking >= 0,
            email=email[where_person],
            device=device,
            ip=ip,
            ip24=ip24,
            text=texts,
            platform=partners,
        ),
    )


