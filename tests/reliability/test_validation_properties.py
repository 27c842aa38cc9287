"""Property-based checks of the ingest validator (apps/core/validation.py).

Whatever JSON a partner sends, the validator answers with clean values or
per-field errors; it never raises. What it accepts can be stored and
fingerprinted: no NUL, no unpaired surrogate, date-times in UTC.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.validation import validate_object
from apps.reports.schemas import REPORT_FIELDS
from apps.reviews.schemas import REVIEW_FIELDS

PROPERTIES = settings(max_examples=300, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])

# Every code point, unpaired surrogates and control characters included.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
)
edge_datetimes = st.builds(
    lambda d, offset: d.isoformat() + offset,
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59)),
    offsets | st.sampled_from(["Z", ""]),
)
datetime_like = edge_datetimes | st.from_regex(
    r"\d{1,5}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?",
    fullmatch=True,
)
date_like = st.from_regex(r"\d{1,5}-\d{1,2}-\d{1,2}", fullmatch=True) | st.dates().map(str)


def _review(**overrides) -> dict:
    review = {
        "external_id": "rv-1", "establishment": "htl-1", "rating": 3, "text": "Fine.",
        "created_at": "2026-05-03T08:12:00Z",
        "reviewer": {"external_id": "u-1", "email": "a@example.org", "ip": "203.0.113.7"},
    }
    review.update(overrides)
    return review


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@PROPERTIES
@given(st.sampled_from([f.name for f in REVIEW_FIELDS]), json_values)
def test_any_json_value_in_any_review_field_gives_values_or_errors_never_an_exception(name, value):
    validate_object(REVIEW_FIELDS, _review(**{name: value}))


@PROPERTIES
@given(st.sampled_from(["external_id", "display_name", "email", "ip", "device_id",
                        "account_created_at"]), json_values)
def test_any_json_value_in_any_reviewer_field_never_raises(name, value):
    validate_object(REVIEW_FIELDS, _review(reviewer={"external_id": "u-1", name: value}))


@PROPERTIES
@given(st.sampled_from([f.name for f in REPORT_FIELDS]), json_values)
def test_any_json_value_in_any_threat_report_field_never_raises(name, value):
    validate_object(REPORT_FIELDS, {"establishment": "htl-1", name: value})


@PROPERTIES
@given(any_text, any_text)
def test_accepted_strings_hold_no_nul_control_character_or_unpaired_surrogate(title, text):
    clean, _ = validate_object(REVIEW_FIELDS, _review(title=title, text=text))
    for value in _strings(clean):
        value.encode("utf-8")  # an unpaired surrogate would raise here
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in value)


@PROPERTIES
@given(datetime_like)
def test_any_date_time_is_accepted_in_utc_or_refused_never_raises(value):
    clean, errors = validate_object(REVIEW_FIELDS, _review(created_at=value))
    if "created_at" not in errors:
        assert clean["created_at"].utcoffset() == dt.timedelta(0)


@PROPERTIES
@given(datetime_like)
def test_an_accepted_date_time_validates_again_to_the_same_instant(value):
    clean, errors = validate_object(REVIEW_FIELDS, _review(created_at=value))
    if "created_at" not in errors:
        again, _ = validate_object(REVIEW_FIELDS, _review(created_at=clean["created_at"].isoformat()))
        assert again["created_at"] == clean["created_at"]


@PROPERTIES
@given(date_like)
def test_any_visit_date_is_accepted_or_refused_never_raises(value):
    validate_object(REVIEW_FIELDS, _review(visit_date=value))


def test_year_one_at_plus_23_59_is_refused_not_an_overflow():
    _, errors = validate_object(REVIEW_FIELDS, _review(created_at="0001-01-01T00:00:00+23:59"))
    assert "created_at" in errors


def test_an_impossible_calendar_date_is_refused_not_an_exception():
    _, errors = validate_object(REVIEW_FIELDS, _review(created_at="2026-02-30T10:00:00Z"))
    assert errors["created_at"] == ["Must be an ISO 8601 date-time, e.g. 2026-05-01T18:30:00Z."]


def test_an_unpaired_surrogate_is_refused():
    _, errors = validate_object(REVIEW_FIELDS, _review(text="bad \ud800 text"))
    assert "U+D800" in errors["text"][0]


def test_a_nul_character_is_refused():
    _, errors = validate_object(REVIEW_FIELDS, _review(text="a\x00b"))
    assert "U+0000" in errors["text"][0]
