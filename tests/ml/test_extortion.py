"""Threat report linkage, extortion score, serial guests and owner credibility on tiny batches."""

import dataclasses

import numpy as np

from ml.extortion import (
    METHOD_BITS,
    ReviewGuests,
    ThreatReports,
    link_reports_to_reviews,
    owner_credibility,
    score_extortion,
    serial_extortionists,
)
from ml.features import ReviewColumns

DAY = 86_400.0
T0 = 1_700_000_000.0


def reviews(establishment, created_days, rating=None, email=None, reviewer=None, text=None):
    n = len(establishment)
    return ReviewColumns(
        reviewer=np.arange(n, dtype=np.int64) if reviewer is None else np.asarray(reviewer),
        establishment=np.asarray(establishment, dtype=np.int64),
        rating=np.full(n, 1.0) if rating is None else np.asarray(rating, dtype=np.float64),
        created_at=T0 + np.asarray(created_days, dtype=np.float64) * DAY,
        account_created_at=np.full(n, np.nan),
        email=None if email is None else np.asarray(email, dtype=np.int64),
        text=text,
    )


def reports(establishment, received_days, **kw):
    return ThreatReports(
        establishment=np.asarray(establishment, dtype=np.int64),
        received_at=T0 + np.asarray(received_days, dtype=np.float64) * DAY,
        **{k: (np.asarray(v) if k not in ("name", "message_text") else v) for k, v in kw.items()},
    )


def pairs(links):
    return list(zip(links.report.tolist(), links.review.tolist(), strict=True))


def test_email_links_a_review_of_the_same_establishment_after_the_report():
    rev = reviews([5, 5, 6], [10, 10, 10], email=[42, 43, 42])
    links = link_reports_to_reviews(reports([5], [0], email=[42]), rev)
    assert pairs(links) == [(0, 0)]
    assert links.methods(0) == ["email"]
    assert links.delay_days[0] == 10


def test_review_outside_the_window_is_not_linked():
    rev = reviews([5, 5, 5], [31, -4, -2], email=[42, 42, 42])
    links = link_reports_to_reviews(reports([5], [0], email=[42]), rev)
    assert pairs(links) == [(0, 2)]  # 2 days before: kept; 4 before, 31 after: not


def test_booking_reference_and_handle_link_too():
    rev = reviews([5, 5], [1, 2], reviewer=[70, 71])
    guests = ReviewGuests(booking_ref=np.array([900, -1]))
    rep = reports([5, 5], [0, 0], booking_ref=[900, -1], handle=[-1, 71])
    links = link_reports_to_reviews(rep, rev, guests=guests)
    assert pairs(links) == [(0, 0), (1, 1)]
    assert links.method.tolist() == [METHOD_BITS["booking_ref"], METHOD_BITS["handle"]]


def test_unknown_identifiers_never_match_each_other():
    rev = reviews([5], [1], email=[-1])
    links = link_reports_to_reviews(reports([5], [0], email=[-1]), rev)
    assert len(links) == 0


def test_fuzzy_name_links_a_reordered_accented_name():
    rev = reviews([5, 5], [3, 3])
    guests = ReviewGuests(name=["Dupont Hélène", "Marc Lefèvre"])
    links = link_reports_to_reviews(reports([5], [0], name=["Helene DUPONT"]), rev, guests=guests)
    assert pairs(links) == [(0, 0)]
    assert links.name_score[0] == 100


def test_two_methods_on_one_pair_give_one_link_with_both_bits():
    rev = reviews([5], [3], email=[42])
    guests = ReviewGuests(name=["Jean Martin"])
    rep = reports([5], [0], email=[42], name=["Jean Martin"])
    links = link_reports_to_reviews(rep, rev, guests=guests)
    assert len(links) == 1
    assert links.methods(0) == ["email", "name"]


def test_owner_credibility_falls_with_dismissed_reports():
    cred = owner_credibility(np.array([0, 0, 3]), np.array([0, 2, 0]))
    np.testing.assert_allclose(cred, [2 / 3, 2 / 5, 5 / 6])


def test_linked_low_rating_from_a_credible_report_is_held():
    rev = reviews([5], [3], rating=[1], email=[42])
    rep = reports([5], [0], email=[42])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev))
    assert result.hold.tolist() == [True]
    codes = [r.code for r in result.reasons[0]]
    assert codes[:2] == ["report_identity_match", "low_rating_after_demand"]


def test_linked_five_star_review_is_not_held():
    rev = reviews([5], [3], rating=[5], email=[42])
    rep = reports([5], [0], email=[42])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev))
    assert result.hold.tolist() == [False]


def test_low_credibility_report_holds_nothing_by_itself():
    rev = reviews([5], [3], rating=[1], email=[42])
    rep = reports([5], [0], email=[42])
    cred = owner_credibility(np.array([0]), np.array([4]))
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev), credibility=cred)
    assert result.hold.tolist() == [False]
    assert "low_credibility_report" in [r.code for r in result.reasons[0]]


def test_threat_in_the_review_holds_even_behind_a_doubtful_report():
    rev = reviews([5], [3], rating=[1], email=[42], text=["Refund me or this stays."])
    rep = reports([5], [0], email=[42])
    result = score_extortion(
        rep, rev, link_reports_to_reviews(rep, rev), credibility=np.array([0.2])
    )
    assert result.hold.tolist() == [True]


def test_honest_complaint_without_a_report_scores_zero():
    text = ["I asked for a refund, they refused, so here is my review."]
    rev = reviews([5], [3], rating=[1], text=text)
    rep = reports([], [])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev))
    assert result.score.tolist() == [0.0]
    assert result.reasons == [[]]


def test_reasons_carry_the_methods_and_the_delay():
    rev = reviews([5], [3], rating=[1], email=[42])
    rep = reports([5], [0], email=[42])
    reason = score_extortion(rep, rev, link_reports_to_reviews(rep, rev)).reasons[0][0]
    assert reason.code == "report_identity_match"
    assert reason.values == {"methods": ["email"], "delay_days": 3.0}


def test_same_email_at_two_establishments_and_partners_is_one_serial_group():
    rep = reports([1, 2, 3], [0, 5, 9], email=[42, 42, 7], partner=[0, 1, 0])
    groups = serial_extortionists(rep)
    assert groups.group.tolist() == [0, 0, -1]
    assert groups.establishments.tolist() == [2, 2, 1]
    assert groups.partners.tolist() == [2, 2, 1]


def test_identity_chain_joins_email_and_name_reports():
    # Report 0 and 1 share an email; 1 and 2 share a full name only.
    rep = reports([1, 2, 3], [0, 5, 9], email=[42, 42, -1], name=["", "Paul Girard", "GIRARD paul"])
    assert serial_extortionists(rep).group.tolist() == [0, 0, 0]


def test_reports_at_one_establishment_only_are_not_serial():
    rep = reports([1, 1], [0, 5], email=[42, 42])
    assert serial_extortionists(rep).group.tolist() == [-1, -1]


def test_linked_reviewer_ties_reports_without_shared_report_identifiers():
    rev = reviews([1, 2], [1, 6], reviewer=[70, 70], email=[11, 12])
    rep = reports([1, 2], [0, 5], email=[11, 12])
    links = link_reports_to_reviews(rep, rev)
    groups = serial_extortionists(rep, links=links, reviews=rev)
    assert groups.group.tolist() == [0, 0]


def test_review_before_a_report_without_threat_text_is_not_held():
    rev = reviews([5], [-2], rating=[1], email=[42])
    rep = reports([5], [0], email=[42], message_text=["This guest wrote lies about us."])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev))
    assert result.hold.tolist() == [False]
    assert result.report_strength[0] > 0


def test_review_before_a_new_owners_report_quoting_a_threat_is_not_held():
    # The owner may have written the "threat" after reading the review: nothing
    # the owner did not write corroborates it.
    rev = reviews([5], [-2], rating=[1], email=[42])
    rep = reports([5], [0], email=[42], message_text=["Refund me or I post a 1-star review."])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev))
    assert result.hold.tolist() == [False]
    assert result.hold_reasons[0][0].code == "not_held_uncorroborated_report"
    np.testing.assert_allclose(result.corroboration, [0.0])


def test_review_before_a_trusted_owners_report_quoting_a_threat_is_held():
    rev = reviews([5], [-2], rating=[1], email=[42])
    rep = reports([5], [0], email=[42], message_text=["Refund me or I post a 1-star review."])
    cred = owner_credibility(np.array([3]), np.array([0]))
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev), credibility=cred)
    assert result.hold.tolist() == [True]
    assert [e.code for e in result.hold_reasons[0]] == [
        "held_corroborated_report", "owner_track_record"
    ]


def test_initial_for_a_first_name_still_links_but_another_surname_does_not():
    rev = reviews([5, 5], [3, 3])
    guests = ReviewGuests(name=["J. Martin", "J. Bernard"])
    links = link_reports_to_reviews(reports([5], [0], name=["Jean Martin"]), rev, guests=guests)
    assert pairs(links) == [(0, 0)]


def test_name_linked_review_gives_the_name_similarity_in_its_reason():
    rev = reviews([5], [3], rating=[1])
    guests = ReviewGuests(name=["Dupont Hélène"])
    rep = reports([5], [0], name=["Helene DUPONT"])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev, guests=guests))
    reason = result.reasons[0][0]
    assert reason.code == "report_name_match"
    assert reason.values["similarity"] == 100.0


def test_a_name_many_reviewers_carry_does_not_make_a_serial_guest():
    rep = reports([1, 2], [0, 5], name=["John Smith", "John Smith"])
    rev = reviews([9, 9, 9], [0, 1, 2], reviewer=[70, 71, 72])
    guests = ReviewGuests(name=["John Smith", "john SMITH", "Smith John"])
    groups = serial_extortionists(rep, reviews=rev, guests=guests)
    assert groups.group.tolist() == [-1, -1]


def test_phone_threat_then_a_silent_review_with_the_booking_is_held():
    # A threat made by phone comes without a transcript; the review, 3 days
    # later, has no threat words but the reported booking reference.
    rev = reviews([5], [3], rating=[1], text=["Dirty room, rude staff."])
    guests = ReviewGuests(booking_ref=np.array([7]))
    rep = reports([5], [0], booking_ref=[7], message_text=[""])
    links = link_reports_to_reviews(rep, rev, guests=guests)
    result = score_extortion(rep, rev, links, guests=guests)
    assert result.hold.tolist() == [True]
    assert [e.code for e in result.hold_reasons[0]] == [
        "held_corroborated_report", "identity_and_timing"
    ]
    np.testing.assert_allclose(result.corroboration, [0.6])


def test_review_before_a_report_without_any_message_is_not_held():
    rev = reviews([5], [-2], rating=[1], email=[42])
    rep = reports([5], [0], email=[42], message_text=[""])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev))
    assert result.hold.tolist() == [False]


def test_a_message_that_describes_no_threat_does_not_corroborate_timing():
    rev = reviews([5], [2], rating=[1], email=[42])
    rep = reports([5], [0], email=[42], message_text=["This guest was rude to my staff."])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev))
    assert result.hold.tolist() == [False]


def test_one_dismissal_takes_away_identity_and_timing_but_not_the_reviews_own_threat():
    rev = reviews(
        [5, 5], [2, 2], rating=[1, 1], email=[42, 43],
        text=["Rude staff.", "Refund me or this review stays."],
    )
    rep = reports([5, 5], [0, 0], email=[42, 43], message_text=["", ""])
    cred = owner_credibility(np.array([0, 0]), np.array([1, 1]))
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev), credibility=cred)
    assert result.hold.tolist() == [False, True]
    assert result.hold_reasons[0][0].code == "not_held_uncorroborated_report"


def test_serial_guest_corroborates_a_review_written_before_the_report():
    rev = reviews([1, 2], [-2, 20], rating=[1, 1], email=[42, 42])
    rep = reports([1, 2], [0, 15], email=[42, 42], message_text=["", ""])
    links = link_reports_to_reviews(rep, rev)
    serial = serial_extortionists(rep, links=links, reviews=rev)
    result = score_extortion(rep, rev, links, serial=serial)
    assert result.hold.tolist() == [True, True]
    assert "serial_guest" in [e.code for e in result.hold_reasons[0]]


def test_report_naming_a_booking_the_review_lacks_corroborates():
    rev = reviews([5], [-1], rating=[2], email=[42])
    guests = ReviewGuests(booking_ref=np.array([-1]))
    rep = reports([5], [0], email=[42], booking_ref=[9], message_text=[""])
    result = score_extortion(rep, rev, link_reports_to_reviews(rep, rev), guests=guests)
    assert result.hold.tolist() == [True]
    assert result.hold_reasons[0][1].code == "stay_not_verified"


def test_initial_and_a_typo_together_still_link():
    rev = reviews([5], [3])
    guests = ReviewGuests(name=["L. Marford"])
    links = link_reports_to_reviews(reports([5], [0], name=["Linda Mraford"]), rev, guests=guests)
    assert len(links) == 1


def _name_pairs(report_names, review_names, establishments=None, days=None):
    n = len(review_names)
    rev = reviews(establishments or [5] * n, days or [3] * n)
    rep = reports([5] * len(report_names), [0] * len(report_names), name=report_names)
    return pairs(link_reports_to_reviews(rep, rev, guests=ReviewGuests(name=review_names)))


def test_names_in_cyrillic_and_greek_link_to_their_latin_spelling():
    assert _name_pairs(
        ["Dmitri Ivanov", "Giorgos Papadopoulos", "Natalia Smirnova"],
        ["Дмитрий Иванов", "Γιώργος Παπαδόπουλος", "Наталья Смирнова"],
    ) == [(0, 0), (1, 1), (2, 2)]


def test_german_and_nordic_letters_and_french_transliteration_link():
    assert _name_pairs(
        ["Juergen Weiss", "Soren Ostergaard", "Sergey Kuznetsov"],
        ["Jürgen Weiß", "Søren Østergaard", "Sergueï Kouznetsov"],
    ) == [(0, 0), (1, 1), (2, 2)]


def test_swapped_names_initials_titles_and_a_typo_link():
    assert _name_pairs(
        ["DUPONT, Hélène", "Mme Jeanne Moreau", "LEFEVRE J.", "Pierre Giraud"],
        ["helene dupont", "Moreau Jeanne", "Jean Lefèvre", "Pierre Girard"],
    ) == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_another_first_name_with_the_same_surname_does_not_link():
    assert _name_pairs(["John Smith"], ["Jane Smith"]) == []


def test_a_namesake_at_another_establishment_or_outside_the_window_does_not_link():
    assert _name_pairs(["Jean Martin"] * 1, ["Jean Martin", "Jean Martin"],
                       establishments=[6, 5], days=[3, 60]) == []


def test_a_threat_reported_days_after_the_review_it_predates_does_not_corroborate():
    # Message "received" on day 0, review on day 2, report filed on day 5.
    rev = reviews([5], [2], rating=[1], email=[42])
    late = reports([5], [0], email=[42], message_text=[""], filed_at=[T0 + 5 * DAY])
    result = score_extortion(late, rev, link_reports_to_reviews(late, rev))
    assert result.hold.tolist() == [False]
    prompt = reports([5], [0], email=[42], message_text=[""], filed_at=[T0 + 1 * DAY])
    result = score_extortion(prompt, rev, link_reports_to_reviews(prompt, rev))
    assert result.hold.tolist() == [True]


def _new_account_review(account_days: float) -> ReviewColumns:
    # A first review on day 2 by an account made on ``account_days``.
    return dataclasses.replace(reviews([5], [2], rating=[1], email=[42]),
                               account_created_at=np.array([T0 + account_days * DAY]))


# The message describes no threat, so timing cannot corroborate: only the account's age can.
NO_CUE = ["The guest called about the bill."]


def test_an_account_made_after_a_threat_filed_late_and_backdated_does_not_corroborate():
    # The owner reads the review (day 2), files on day 5 a message dated day 0,
    # and the guest's account dates from day 1: only the owner's date says "after".
    rev = _new_account_review(1)
    late = reports([5], [0], email=[42], message_text=NO_CUE, filed_at=[T0 + 5 * DAY])
    result = score_extortion(late, rev, link_reports_to_reviews(late, rev))
    assert result.hold.tolist() == [False]


def test_an_account_made_after_a_promptly_reported_threat_corroborates():
    rev = _new_account_review(1)
    prompt = reports([5], [0], email=[42], message_text=NO_CUE, filed_at=[T0 + 0.5 * DAY])
    result = score_extortion(prompt, rev, link_reports_to_reviews(prompt, rev))
    assert result.hold.tolist() == [True]
