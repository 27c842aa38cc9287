"""Review rows a scoring process keeps between batches (apps/detection/rowcache.py)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from apps.detection import rowcache
from apps.detection.erasure import detection_data_erase
from apps.detection.loader import Where, code_of, read_reviews
from apps.detection.rowcache import ReviewRows
from apps.reviews.erasure import TOMBSTONE, reviewer_erase
from apps.reviews.models import Review, Reviewer
from tests.factories import ReviewerFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def reviews(n: int = 6) -> list[int]:
    made = [
        ReviewFactory(rating=1 + i % 5, text=f"Review number {i} of the stay, long enough to read.",
                      device_hash=sha(f"device-{i % 2}"), ip_hash=sha(f"ip-{i}") if i % 3 else "",
                      booking_ref_hash=sha(f"BK-{i}") if i % 2 else "",
                      reviewer=ReviewerFactory(email_hash=sha(f"guest-{i}@example.com")))
        for i in range(n)
    ]
    return sorted(r.id for r in made)


def assert_same_frame(got, want) -> None:
    assert got.review_ids.tolist() == want.review_ids.tolist()
    assert got.partner_ids.tolist() == want.partner_ids.tolist()
    assert got.booking_ref.tolist() == want.booking_ref.tolist()
    for name in want.columns.__dataclass_fields__:
        a, b = getattr(got.columns, name), getattr(want.columns, name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, name
            assert np.array_equal(a, b, equal_nan=b.dtype.kind == "f"), name
        else:
            assert list(a) == list(b), name


def test_a_frame_read_through_the_kept_rows_is_the_frame_read_from_the_database():
    ids = reviews()
    rows = ReviewRows(size=100)

    first = rows.frame(ids)
    again = rows.frame(ids)  # every row from memory now

    want = read_reviews(where=Where(ids=ids))
    assert_same_frame(first, want)
    assert_same_frame(again, want)
    assert len(rows.rows) == len(ids)


def test_only_rows_not_kept_are_read_again(monkeypatch):
    ids = reviews()
    rows = ReviewRows(size=100)
    rows.frame(ids[:4])
    asked = []
    real = rowcache.review_columns
    monkeypatch.setattr(rowcache, "review_columns",
                        lambda *, where: asked.append(list(where.ids)) or real(where=where))

    assert_same_frame(rows.frame(ids), read_reviews(where=Where(ids=ids)))
    assert asked == [ids[4:]]


def test_reviewer_columns_are_read_afresh_for_every_frame():
    ids = reviews(2)
    rows = ReviewRows(size=100)
    rows.frame(ids)
    reviewer = Reviewer.objects.get(reviews__id=ids[0])
    reviewer.email_hash = sha("new-address@example.com")
    reviewer.save(update_fields=["email_hash"])

    frame = rows.frame(ids)

    assert frame.columns.email[0] == code_of(reviewer.email_hash)


def test_an_erasure_drops_every_kept_row():
    ids = reviews(3)
    rows = ReviewRows(size=100)
    rows.frame(ids)
    review = Review.objects.select_related("reviewer__partner").get(id=ids[1])
    erased = reviewer_erase(partner=review.reviewer.partner,
                            external_id=review.reviewer.external_id)
    detection_data_erase(review_ids=erased.review_ids)

    frame = rows.frame(ids)

    row = frame.rows_of([ids[1]])[0]
    assert frame.columns.text[row] == TOMBSTONE
    assert frame.columns.device[row] == -1
    assert_same_frame(frame, read_reviews(where=Where(ids=ids)))


def test_an_erasure_committed_during_the_read_is_not_missed(monkeypatch):
    ids = reviews(3)
    rows = ReviewRows(size=100)
    rows.frame(ids[:2])
    review = Review.objects.select_related("reviewer__partner").get(id=ids[0])
    real = rowcache.review_columns

    def erase_meanwhile(*, where):
        if list(where.ids) == ids[2:]:  # the batch reads the rows it does not keep ...
            erased = reviewer_erase(partner=review.reviewer.partner,
                                    external_id=review.reviewer.external_id)
            detection_data_erase(review_ids=erased.review_ids)  # ... as an erasure commits
        return real(where=where)

    monkeypatch.setattr(rowcache, "review_columns", erase_meanwhile)
    frame = rows.frame(ids)

    assert frame.columns.text[0] == TOMBSTONE
    assert rows.rows == {}


def test_the_rows_kept_are_bounded_and_the_oldest_go_first():
    ids = reviews(12)
    rows = ReviewRows(size=10)
    rows.frame(ids[:6])
    rows.frame(ids[6:])

    assert len(rows.rows) <= 10
    assert set(ids[6:]) <= set(rows.rows)
    assert ids[0] not in rows.rows


def test_with_no_room_nothing_is_kept():
    ids = reviews(2)
    rows = ReviewRows(size=0)

    assert_same_frame(rows.frame(ids), read_reviews(where=Where(ids=ids)))
    assert rows.rows == {}


def test_rows_used_again_stay_longer_than_rows_used_once():
    ids = reviews(12)
    rows = ReviewRows(size=10)
    rows.frame(ids[:6])
    rows.frame([ids[0]])  # used again: now the most recent
    rows.frame(ids[6:])

    assert ids[0] in rows.rows
    assert ids[1] not in rows.rows
