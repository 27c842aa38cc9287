"""Identifier hashes become integer codes in the frame ml/ reads (apps/detection/loader.py)."""

from __future__ import annotations

import hashlib

import pytest

from apps.detection.loader import Where, code_of, read_reviews
from tests.factories import ReviewerFactory, ReviewFactory


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.django_db
def test_the_frame_carries_each_identifier_as_its_code():
    reviewer = ReviewerFactory(email_hash=sha("guest@example.com"))
    review = ReviewFactory(reviewer=reviewer, device_hash=sha("device"), ip_hash=sha("ip"),
                           ip24_hash="", booking_ref_hash=sha("BK-1"))

    frame = read_reviews(where=Where(ids=[review.id]))

    cols = frame.columns
    assert cols.email.tolist() == [code_of(reviewer.email_hash)]
    assert cols.device.tolist() == [code_of(review.device_hash)]
    assert cols.ip.tolist() == [code_of(review.ip_hash)]
    assert cols.ip24.tolist() == [-1]
    assert frame.booking_ref.tolist() == [code_of(review.booking_ref_hash)]
