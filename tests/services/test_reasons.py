"""Reasons: ml/ returns codes and values; the apps word them in the reader's language."""

import pytest
from django.utils import translation

from apps.core.reasons import (
    SENTENCES,
    merge_reason_records,
    reason_record,
    reason_sentence,
    reasons_payload,
)
from ml.bursts import BURST_REASONS
from ml.extortion import CORROBORATION_CODES, EXTORTION_REASONS, HOLD_DECISION_CODES
from ml.fusion import REASON_CODES, Reason
from ml.rings import RING_REASONS
from ml.text import CUE_CODES


def test_every_code_ml_can_return_has_a_sentence():
    codes = {*REASON_CODES, *BURST_REASONS, *RING_REASONS, *EXTORTION_REASONS, *CUE_CODES,
             *HOLD_DECISION_CODES, *CORROBORATION_CODES}
    assert codes <= set(SENTENCES)


def test_a_reason_is_stored_as_code_score_and_values():
    record = reason_record(Reason("new_account", 0.8123456, {"value": 1.25}))
    assert record == {"code": "new_account", "score": 0.8123, "values": {"value": 1.25}}


def test_the_sentence_follows_the_active_language():
    record = {"code": "new_account", "score": 1.0, "values": {"value": 1.5}}
    with translation.override("en"):
        english = reason_sentence(record)
    with translation.override("fr"):
        french = reason_sentence(record)
    assert english == "The account was 1.5 days old when the review was written."
    assert french == "Le compte avait 1,5 jours quand l'avis a été écrit."


def test_counts_take_the_right_plural_in_french():
    one = {"code": "shared_device", "score": 0.5, "values": {"value": 1}}
    two = {"code": "shared_device", "score": 1.0, "values": {"value": 2}}
    with translation.override("fr"):
        assert reason_sentence(one) == "L'appareil est partagé avec 1 autre compte d'auteur."
        assert reason_sentence(two) == "L'appareil est partagé avec 2 autres comptes d'auteur."


def test_a_chance_probability_is_never_written_in_scientific_notation():
    record = {"code": "burst_detected", "score": 0.9,
              "values": {"count": 14, "window": 2, "expected": 0.4, "log10p": 31}}
    with translation.override("en"):
        sentence = reason_sentence(record)
    assert "1e-" not in sentence and "10^31" in sentence


@pytest.mark.parametrize("positive,english,french", [
    (0, "14 negative reviews within 2 days", "14 avis négatifs en 2 jours"),
    (1, "14 positive reviews within 2 days", "14 avis positifs en 2 jours"),
])
def test_a_burst_says_whether_it_is_of_complaints_or_of_praise(positive, english, french):
    record = {"code": "burst_detected", "score": 0.9, "values": {
        "count": 14, "window": 2, "expected": 0.4, "log10p": 31, "positive": positive}}
    with translation.override("en"):
        assert reason_sentence(record).startswith(english)
    with translation.override("fr"):
        assert reason_sentence(record).startswith(french)


def test_rows_written_before_values_keep_their_own_sentences():
    legacy = {"code": "new_account", "score": 1.0, "en": "New.", "fr": "Nouveau."}
    with translation.override("fr"):
        assert reason_sentence(legacy) == "Nouveau."


def test_an_unknown_code_still_reads_as_a_sentence():
    with translation.override("en"):
        sentence = reason_sentence({"code": "lunar_phase", "score": 0.5, "values": {}})
    assert "lunar_phase" in sentence


def test_every_output_has_code_score_and_detail():
    payload = reasons_payload([{"code": "first_review", "score": 0.75, "values": {}}])
    assert set(payload[0]) == {"code", "score", "detail"}


def test_merging_keeps_the_strongest_record_of_each_code_in_first_order():
    merged = merge_reason_records(
        [{"code": "a", "score": 0.2}, {"code": "b", "score": 0.9}], [{"code": "a", "score": 0.5}]
    )
    assert merged == [{"code": "a", "score": 0.5}, {"code": "b", "score": 0.9}]
