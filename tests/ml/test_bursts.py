"""Negative-review bursts: found against the establishment's own baseline, then told apart."""

import numpy as np
import pytest

from ml.bursts import BURST_REASONS, BurstDetector
from ml.features import ReviewColumns

DAY = 86_400.0
T0 = 1_600_000_000.0
COMPLAINT = (
    "Terrible stay, the room was filthy and the manager laughed at us when we complained. "
    "Never again, avoid this place at all costs."
)
DIVERSE = [
    "Cold shower for three days and nobody at the desk cared at all.",
    "Our booking was cancelled the night before, we slept in the car.",
    "The breakfast buffet made half of our group sick the next morning.",
    "Bed bugs in room 12, we showed photos and got a shrug.",
    "Fire alarm went off at 3am twice and there was no explanation.",
    "They charged my card twice and still have not refunded the second charge.",
    "Mould on the bathroom ceiling and a broken window that would not close.",
    "Waited two hours for a table we had reserved weeks in advance.",
]


def baseline(n_days=200, per_day_negative=0.1, seed=0):
    """An establishment (code 5) with a steady trickle of reviews, 1 in 4 negative."""
    rng = np.random.default_rng(seed)
    n = int(n_days * per_day_negative * 4)
    return dict(
        reviewer=np.arange(n),
        establishment=np.full(n, 5),
        rating=np.where(rng.random(n) < 0.25, 1.0, 5.0),
        created_at=T0 + np.sort(rng.uniform(0, n_days, n)) * DAY,
        account_created_at=T0 - 500 * DAY + np.zeros(n),
        verified_stay=rng.random(n) < 0.6,
        device=np.arange(n) + 10_000,
        text=[DIVERSE[i % len(DIVERSE)] + f" Visit {i}." for i in range(n)],
    )


def wave(start, count, *, new_accounts, verified, device, texts, first_reviewer=5000):
    times = T0 + (start + np.linspace(0, 1.5, count)) * DAY
    return dict(
        reviewer=np.arange(first_reviewer, first_reviewer + count),
        establishment=np.full(count, 5),
        rating=np.ones(count),
        created_at=times,
        account_created_at=times - (2 if new_accounts else 800) * DAY,
        verified_stay=np.full(count, verified),
        device=np.asarray(device),
        text=list(texts),
    )


def columns(*parts):
    def cat(key):
        return np.concatenate([np.asarray(p[key]) for p in parts])

    return ReviewColumns(
        reviewer=cat("reviewer").astype(np.int64),
        establishment=cat("establishment").astype(np.int64),
        rating=cat("rating"),
        created_at=cat("created_at"),
        account_created_at=cat("account_created_at"),
        verified_stay=cat("verified_stay").astype(bool),
        device=cat("device").astype(np.int64),
        text=[t for p in parts for t in p["text"]],
    )


def bombing(count=20):
    return wave(
        210, count, new_accounts=True, verified=False, device=np.arange(count) % 3 + 1,
        texts=[COMPLAINT + (" !" * (i % 3)) for i in range(count)],
    )  # fmt: skip


def outrage(count=20):
    # Established guests with verified stays: reviewers who also reviewed elsewhere.
    return wave(
        210, count, new_accounts=False, verified=True, device=np.arange(count) + 90_000,
        texts=[DIVERSE[i % len(DIVERSE)] + f" Room {i}, booking {i * 7}." for i in range(count)],
        first_reviewer=0,
    )  # fmt: skip


def test_coordinated_wave_is_one_bombing_burst():
    bg = baseline()
    detector = BurstDetector().fit(columns(bg, bombing()))
    (burst,) = detector.bursts_
    assert burst.label == "bombing"
    assert len(burst.reviews) == 20
    assert burst.establishment == 5


def test_bombing_reviews_get_the_coordination_as_score():
    bg = baseline()
    detector = BurstDetector().fit(columns(bg, bombing()))
    n = len(bg["reviewer"])
    assert (detector.review_score_[n:] > 0.5).all()
    assert (detector.review_score_[:n] == 0).all()


def test_established_verified_diverse_wave_is_organic_and_never_scored():
    detector = BurstDetector().fit(columns(baseline(), outrage()))
    (burst,) = detector.bursts_
    assert burst.label == "organic"
    assert (detector.review_score_ == 0).all()
    assert "burst_organic" in [r.code for r in burst.reasons]


def test_usual_rate_of_complaints_is_no_burst():
    # A busy establishment: 3 negative reviews a day, every day.
    detector = BurstDetector().fit(columns(baseline(per_day_negative=3.0)))
    assert detector.bursts_ == []


def test_same_wave_is_a_burst_only_where_it_is_unusual():
    # 20 negatives in 1.5 days: unusual at 0.1 a day, ordinary at 15 a day.
    quiet = BurstDetector().fit(columns(baseline(), bombing()))
    busy = BurstDetector().fit(columns(baseline(per_day_negative=15.0), bombing()))
    assert len(quiet.bursts_) == 1
    assert all(len(b.reviews) != 20 or b.log10p < quiet.bursts_[0].log10p for b in busy.bursts_)


def on_venue_wifi(guests, wifi=777):
    """Columns of the baseline and ``guests``, all guests and one in five of the
    venue's earlier reviewers on the venue's wifi."""
    bg = baseline()
    bg["device"] = np.where(np.arange(len(bg["device"])) % 5 == 0, wifi, bg["device"])
    guests["device"] = np.full(len(guests["device"]), wifi)
    return columns(bg, guests)


def test_venue_wifi_shared_by_honest_guests_is_not_shared_infrastructure():
    (burst,) = BurstDetector().fit(on_venue_wifi(outrage())).bursts_
    assert "burst_shared_infrastructure" not in [r.code for r in burst.reasons]


def test_burst_reasons_carry_their_codes_and_values():
    (burst,) = BurstDetector().fit(columns(baseline(), bombing())).bursts_
    assert burst.reasons[0].code == "burst_detected"
    assert burst.reasons[0].values["count"] >= 5
    assert all(r.code in BURST_REASONS for r in burst.reasons)


def test_values_of_many_counts_distinct_reviewers_not_uses():
    from ml.bursts import _values_of_many

    values = np.array([7, 7, 7, 9, 9, -1, -1], dtype=np.int64)
    reviewer = np.array([1, 1, 1, 2, 3, 4, 5], dtype=np.int64)
    # 7: one reviewer three times; 9: two reviewers; -1: unknown, never counted.
    assert _values_of_many(values, reviewer).tolist() == [9]


def _split(parts, keep_rows):
    """Columns of ``parts`` with only ``keep_rows`` as rows; the other negative
    reviews as a background of (establishment, created_at)."""
    cols = columns(*parts)
    rows = np.asarray(keep_rows)
    rest = np.setdiff1d(np.flatnonzero(cols.rating <= 2), rows)
    kept = ReviewColumns(
        reviewer=cols.reviewer[rows], establishment=cols.establishment[rows],
        rating=cols.rating[rows], created_at=cols.created_at[rows],
        account_created_at=cols.account_created_at[rows],
        verified_stay=cols.verified_stay[rows], device=cols.device[rows],
        text=[cols.text[i] for i in rows.tolist()],
    )
    return kept, (cols.establishment[rest], cols.created_at[rest])


def test_background_negatives_count_as_rows_would():
    bg, attack = baseline(per_day_negative=0.5), bombing()
    whole = BurstDetector().fit(columns(bg, attack))
    n = len(bg["reviewer"])
    recent = np.r_[np.flatnonzero(bg["created_at"] >= T0 + 190 * DAY), n + np.arange(20)]
    cols, background = _split([bg, attack], recent)
    part = BurstDetector().fit(cols, background=background)
    (expected,) = whole.bursts_
    (burst,) = part.bursts_
    assert burst.log10p == expected.log10p
    assert [r.values["expected"] for r in burst.reasons if r.code == "burst_detected"] == [
        r.values["expected"] for r in expected.reasons if r.code == "burst_detected"]


def test_without_its_background_a_busy_place_looks_bombed():
    bg, attack = baseline(per_day_negative=15.0), bombing()
    n = len(bg["reviewer"])
    cols, background = _split([bg, attack], n + np.arange(20))
    assert len(BurstDetector().fit(cols).bursts_) == 1
    assert BurstDetector().fit(cols, background=background).bursts_ == []


def test_a_burst_of_background_events_alone_is_not_reported():
    bg, attack = baseline(), bombing()
    cols, background = _split([bg, attack], np.arange(len(bg["reviewer"])))
    detector = BurstDetector().fit(cols, background=background)
    assert detector.bursts_ == []
    assert (detector.review_burst_ == -1).all()


def test_focus_describes_only_the_bursts_holding_its_rows():
    # Two establishments bombed at once; the focus row is in the second one's burst.
    first = columns(baseline(), bombing())
    other = baseline(seed=1)
    other["establishment"] = np.full(len(other["reviewer"]), 6)
    hit = bombing()
    hit["establishment"] = np.full(20, 6)
    hit["reviewer"] = hit["reviewer"] + 100
    cols = columns(baseline(), bombing(), other, hit)
    everything = BurstDetector().fit(cols)
    assert sorted(b.establishment for b in everything.bursts_) == [5, 6]

    row = len(first) + len(other["reviewer"]) + 3
    focused = BurstDetector().fit(cols, focus=np.array([row]))
    (burst,) = focused.bursts_
    (same,) = [b for b in everything.bursts_ if b.establishment == 6]
    assert burst.reviews.tolist() == same.reviews.tolist()
    assert burst.coordination == same.coordination
    assert (focused.review_burst_[: len(first)] == -1).all()


def _own_words(count, seed=3):
    """``count`` complaints in words of their own (no two nearly duplicate)."""
    rng = np.random.default_rng(seed)
    vocabulary = [f"word{k}" for k in range(400)]
    return [" ".join(rng.choice(vocabulary, 25)) for _ in range(count)]


def aged_crew(count=20, networks=2):
    # Old accounts, booking references, their own words: only the networks they
    # post from (shared among them, unknown to the venue's guests) give them away.
    return wave(210, count, new_accounts=False, verified=True,
                device=np.arange(count) % networks + 1, texts=_own_words(count))


def test_otherwise_clean_wave_from_a_few_networks_is_suspected():
    bg = baseline()
    (burst,) = BurstDetector().fit(columns(bg, aged_crew())).bursts_
    assert burst.label == "suspected"
    assert "burst_suspected" in [r.code for r in burst.reasons]


def test_a_suspected_wave_is_never_scored():
    detector = BurstDetector().fit(columns(baseline(), aged_crew()))
    assert (detector.review_score_ == 0).all()


def test_a_suspected_burst_lists_the_reviews_on_shared_networks_only():
    bg, crew = baseline(), aged_crew()
    crew["device"][:3] = [70_001, 70_002, 70_003]  # three authors on networks of their own
    n = len(bg["reviewer"])
    (burst,) = BurstDetector().fit(columns(bg, crew)).bursts_
    assert burst.label == "suspected"
    assert sorted(burst.incident.tolist()) == list(range(n + 3, n + 20))


def test_the_same_wave_from_networks_of_its_own_is_organic():
    crew = aged_crew()
    crew["device"] = np.arange(20) + 80_000
    (burst,) = BurstDetector().fit(columns(baseline(), crew)).bursts_
    assert burst.label == "organic"
    assert len(burst.incident) == 0


def test_guests_on_the_venue_wifi_are_not_suspected():
    (burst,) = BurstDetector().fit(on_venue_wifi(aged_crew())).bursts_
    assert burst.label == "organic"


def test_fewer_sharing_authors_than_a_burst_needs_are_not_suspected():
    crew = aged_crew(count=8)
    crew["device"] = np.r_[1, 1, 1, 1, np.arange(4) + 80_000]  # 4 of 8 share: under min_count
    (burst,) = BurstDetector().fit(columns(baseline(), crew)).bursts_
    assert burst.label == "organic"


def test_a_bombing_incident_leaves_out_an_honest_complaint_in_its_window():
    bg, attack = baseline(), bombing()
    honest = wave(210.7, 1, new_accounts=False, verified=True, device=[95_000],
                  texts=_own_words(1, seed=9), first_reviewer=0)
    n = len(bg["reviewer"])
    (burst,) = BurstDetector().fit(columns(bg, attack, honest)).bursts_
    assert burst.label == "bombing"
    assert n + 20 in burst.reviews.tolist()
    assert n + 20 not in burst.incident.tolist()


def test_established_guests_from_a_few_networks_are_not_suspected():
    # The baseline's own reviewers (months of history) complain from two networks.
    crew = aged_crew()
    crew["reviewer"] = np.arange(20)
    (burst,) = BurstDetector().fit(columns(baseline(), crew)).bursts_
    assert burst.label == "organic"


def test_a_first_review_older_than_the_frame_makes_an_author_established():
    bg = baseline()
    cols = columns(bg, aged_crew())
    first = np.full(len(cols), np.nan)
    first[len(bg["reviewer"]):] = T0 - 400 * DAY  # history the frame does not hold
    (burst,) = BurstDetector().fit(cols, first_review_at=first).bursts_
    assert burst.label == "organic"


PRAISE = (
    "Wonderful hotel, spotless room, the friendliest staff we have ever met and a superb "
    "breakfast. We will come back every year, highly recommended to everyone!"
)


def praise(wave_part):
    wave_part["rating"] = np.full(len(wave_part["rating"]), 5.0)
    return wave_part


def test_coordinated_praise_is_a_promotion_burst():
    crew = praise(wave(210, 20, new_accounts=True, verified=False, device=np.arange(20) + 60_000,
                       texts=[PRAISE + (" !" * (i % 3)) for i in range(20)]))
    (burst,) = BurstDetector(polarity="positive").fit(columns(baseline(), crew)).bursts_
    assert burst.label == "promotion"
    assert len(burst.incident) == 20


def test_promotion_reviews_get_the_coordination_as_score():
    bg = baseline()
    crew = praise(wave(210, 20, new_accounts=True, verified=False, device=np.arange(20) + 60_000,
                       texts=_own_words(20)))
    detector = BurstDetector(polarity="positive").fit(columns(bg, crew))
    n = len(bg["reviewer"])
    assert (detector.review_score_[n:] >= 0.5).all()
    assert (detector.review_score_[:n] == 0).all()


def test_established_guests_praising_at_once_are_organic():
    guests = praise(outrage())
    (burst,) = BurstDetector(polarity="positive").fit(columns(baseline(), guests)).bursts_
    assert burst.label == "organic"
    assert [r.values["positive"] for r in burst.reasons if r.code == "burst_organic"] == [1]


def test_the_negative_detector_ignores_praise_and_the_positive_one_complaints():
    crew = praise(wave(210, 20, new_accounts=True, verified=False, device=np.arange(20) % 3 + 1,
                       texts=[PRAISE] * 20))
    assert BurstDetector().fit(columns(baseline(), crew)).bursts_ == []
    assert BurstDetector(polarity="positive").fit(columns(baseline(), bombing())).bursts_ == []


def test_a_usual_rate_of_praise_is_no_burst():
    bg = baseline(per_day_negative=3.0)  # 9 positive reviews a day
    assert BurstDetector(polarity="positive").fit(columns(bg)).bursts_ == []


def test_an_unknown_polarity_is_refused():
    with pytest.raises(ValueError, match="polarity"):
        BurstDetector(polarity="sideways").fit(columns(baseline()))


def test_copied_texts_tip_a_wave_that_is_coordinated_by_nothing_else_alone():
    # New accounts with stays, devices of their own: bombing only by the copies.
    crew = wave(210, 20, new_accounts=True, verified=True, device=np.arange(20) + 60_000,
                texts=[COMPLAINT + (" !" * (i % 3)) for i in range(20)])
    (burst,) = BurstDetector().fit(columns(baseline(), crew)).bursts_
    assert burst.label == "bombing"


def test_texts_are_not_compared_where_they_cannot_change_the_label(monkeypatch):
    import ml.bursts

    compared = []
    real = ml.bursts.NearDuplicateDetector.fit

    def counting(self, texts, *args, **kwargs):
        compared.append(len(texts))
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(ml.bursts.NearDuplicateDetector, "fit", counting)
    (burst,) = BurstDetector().fit(columns(baseline(), outrage())).bursts_
    assert burst.label == "organic"
    assert compared == []
