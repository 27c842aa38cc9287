"""Text: folding, language, MinHash near-duplicates and extortion cues on hand-made texts."""

import numpy as np
import pytest

from ml.text import (
    NearDuplicateDetector,
    extortion_cues,
    fold,
    guess_language,
    minhash_signatures,
    near_duplicate_groups,
    near_duplicate_pairs,
    normalize,
)

BASE = (
    "The room was filthy, the shower was broken and the night manager was rude to us "
    "when we complained about the noise from the bar downstairs until three in the morning."
)
EDITED = BASE.replace("filthy", "dirty").replace("three", "four")
OTHER = (
    "Lovely breakfast with fresh pastries, a friendly concierge who booked our theatre "
    "tickets, and a quiet room overlooking the river. We would happily return next spring."
)


def codes(text):
    return [c.code for c in extortion_cues([text])[0]]


def test_fold_keeps_length_and_strips_accents_and_case():
    text = "Remboursez-MOI, l\u2019hôtel Été"
    assert fold(text) == "remboursez-moi, l'hotel ete"
    assert len(fold(text)) == len(text)


def test_normalize_collapses_punctuation_and_spaces():
    assert normalize("  Très   BIEN!!  vraiment...  ") == "tres bien vraiment"


def test_guess_language_tells_english_from_french():
    texts = [
        "The staff was rude and the room was not clean.",
        "Le personnel était désagréable et la chambre pas propre.",
        "",
    ]
    assert guess_language(texts) == ["en", "fr", "und"]


def test_minhash_is_deterministic_for_a_seed():
    a = minhash_signatures([BASE, OTHER], random_state=3)
    b = minhash_signatures([BASE, OTHER], random_state=3)
    assert a.dtype == np.uint32
    np.testing.assert_array_equal(a, b)


def test_minhash_agreement_estimates_similarity():
    sig = minhash_signatures([BASE, EDITED, OTHER], num_perm=256)
    near = (sig[0] == sig[1]).mean()
    far = (sig[0] == sig[2]).mean()
    assert near > 0.6
    assert far < 0.15


def test_case_and_punctuation_do_not_change_the_signature():
    sig = minhash_signatures([BASE, BASE.upper().replace(",", " ;")])
    np.testing.assert_array_equal(sig[0], sig[1])


def test_near_duplicate_pairs_finds_the_edited_copy_only():
    sig = minhash_signatures([BASE, OTHER, EDITED, ""])
    i, j, sim = near_duplicate_pairs(sig, threshold=0.5)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 2)]
    assert sim[0] >= 0.5


def test_anchored_pairs_are_the_pairs_that_touch_an_anchor():
    texts = [BASE, OTHER, EDITED, BASE + " Again.", OTHER + " Indeed.", EDITED]
    sig = minhash_signatures(texts)
    every = set(zip(*(a.tolist() for a in near_duplicate_pairs(sig, threshold=0.5)[:2]),
                    strict=True))
    anchored = set(zip(*(a.tolist() for a in near_duplicate_pairs(
        sig, threshold=0.5, anchors=np.array([1, 5]))[:2]), strict=True))
    assert anchored == {(i, j) for i, j in every if {i, j} & {1, 5}}
    assert anchored and anchored != every


def test_empty_texts_are_never_duplicates_of_each_other():
    sig = minhash_signatures(["", "", "   "])
    i, _, _ = near_duplicate_pairs(sig)
    assert len(i) == 0


def test_near_duplicate_groups_are_transitive_and_minus_one_elsewhere():
    labels = near_duplicate_groups(5, np.array([0, 2]), np.array([2, 4]))
    assert labels[0] == labels[2] == labels[4] >= 0
    assert labels[1] == labels[3] == -1


def test_big_buckets_still_join_every_copy_into_one_group():
    texts = [BASE] * 30 + [OTHER]
    detector = NearDuplicateDetector(max_bucket=5).fit(texts)
    assert len(set(detector.labels_[:30].tolist())) == 1
    assert detector.labels_[30] == -1


def test_detector_reports_best_similarity_per_text():
    detector = NearDuplicateDetector().fit([BASE, EDITED, OTHER])
    assert detector.similarity_[0] == detector.similarity_[1] > 0.5
    assert detector.similarity_[2] == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "Refund me or I will post a 1-star review everywhere.",
        "Give me a free night or I will write the review this place deserves.",
        "Refund me or this stays.",
        "I want my money back, otherwise I'll make sure everyone knows.",
        "Remboursez-moi sinon je publie un avis sur TripAdvisor.",
        "Un geste commercial ou mon avis reste en ligne.",
        "You have until Monday to make this right, after that TripAdvisor hears everything.",
        "Vous avez jusqu'à lundi pour arranger ça, après tout le monde saura.",
    ],
)
def test_demand_followed_by_threat_is_a_cue(text):
    assert codes(text) == ["demand_with_threat"]


@pytest.mark.parametrize(
    "text",
    [
        "Unless you refund my stay, I'll leave a review that tells everyone the truth.",
        "If you don't give me a full refund by Friday, I'm going to post this everywhere.",
        "I will post a one-star review on Google unless you refund me.",
        "Si vous ne me remboursez pas, je publie mon avis partout.",
        "Je vais publier un avis négatif à moins que vous ne me remboursiez.",
    ],
)
def test_threat_conditional_on_compensation_is_a_cue(text):
    assert codes(text) == ["conditional_threat"]


@pytest.mark.parametrize(
    "text",
    [
        "The guest said that if we didn't refund him he would post a 1-star review everywhere.",
        "Le client a dit que si on ne le remboursait pas, il publierait un avis négatif.",
        "S'il n'est pas remboursé, il va publier un avis assassin.",
        "He demanded a full refund and said he would post a bad review if we refused.",
        "Il a exigé un remboursement et a dit qu'il publierait un avis négatif si on refusait.",
    ],
)
def test_threat_reported_by_the_owner_in_the_third_person_is_a_cue(text):
    assert codes(text) == ["conditional_threat"]


@pytest.mark.parametrize(
    "text",
    [
        "I will remove my review if you refund me.",
        "Je retirerai mon avis dès que vous m'aurez remboursé.",
    ],
)
def test_review_offered_against_compensation_is_a_cue(text):
    assert codes(text) == ["review_as_leverage"]


@pytest.mark.parametrize(
    "text",
    ["I have 50k followers.", "Mes 20\u202f000 abonnés sauront tout.", "I'm a travel influencer."],
)
def test_audience_brandished_is_a_cue(text):
    assert codes(text) == ["audience_leverage"]


@pytest.mark.parametrize(
    "text",
    [
        "I asked for a refund, they refused, so here is my review.",
        "J'ai demandé un remboursement, refusé, voici mon avis.",
        "We asked for a refund or at least a discount; the manager refused. I am writing this review to warn others.",
        "No refund was offered, otherwise I would have given 3 stars.",
        "They refused to refund us or even apologise. I'll be posting this everywhere.",
        "Si l'hôtel m'avait proposé un geste commercial, j'aurais laissé 3 étoiles.",
        "J'ai demandé un remboursement ou un avoir, refusé. Je publie donc cet avis pour prévenir.",
        "Remboursement refusé, une étoile.",
        "The manager even gave us a free upgrade, or maybe it was luck.",
        "If they had refunded me I would have given 3 stars.",
        "They tried to make things right, after that everyone will know how good they are.",
        "Refund me or I will write to your head office.",
        "Si vous ne me remboursez pas, j'écrirai à la direction générale.",
        "Si vous voulez faire une bonne affaire, je vous laisse découvrir cet hôtel.",
    ],
)
def test_honest_complaint_or_escalation_without_a_review_threat_is_not_a_cue(text):
    assert codes(text) == []


def test_cue_span_points_into_the_original_text():
    text = "Bonjour. Remboursez-MOI sinon je publie l\u2019avis."
    (cue,) = extortion_cues([text])[0]
    start, end = cue.span
    assert text[start:end] == "Remboursez-MOI sinon je publie"


def test_cue_quotes_the_original_text_of_its_span():
    text = "Refund me or this stays."
    (cue,) = extortion_cues([text])[0]
    assert cue.quote == "Refund me or this stays"


def test_two_cues_in_one_text_are_both_returned_in_order():
    text = "J'ai 50k abonnés, pensez-y. Remboursement ou je balance tout."
    assert codes(text) == ["audience_leverage", "demand_with_threat"]


def test_a_review_held_hostage_after_the_demand_is_leverage_in_english_and_french():
    texts = [
        "They wouldn't refund me, so this review stays until they do. One star.",
        "Refund me and I will delete this review.",
        "Remboursez-moi et je retirerai cet avis. En attendant, une étoile.",
    ]
    assert [[c.code for c in cues] for cues in extortion_cues(texts)] == [
        ["review_as_leverage"]
    ] * 3


def test_a_review_changed_after_a_refund_was_granted_is_not_leverage():
    texts = [
        "They refunded me and I will change my review to 4 stars.",
        "I got a refund in the end, and my review stays until they fix the shower.",
        "Ils m'ont remboursé et je modifie mon avis.",
    ]
    assert extortion_cues(texts) == [[], [], []]


@pytest.mark.parametrize(
    "text",
    [
        "I want 300 euros back or my review goes live tomorrow.",
        "If I don't get compensation this week, expect a one-star rating everywhere.",
        "Remove the cleaning fee from my card or I'm posting the photos online.",
        "You have two days to pay me back before my followers hear about this.",
        "Offrez-nous le dîner sinon tout le monde saura.",
        "Pas de remboursement = avis 1 étoile sur Google.",
        "Je veux être remboursée, sinon je préviens mes abonnés.",
    ],
)
def test_a_demand_tied_to_publicity_in_any_word_order_is_a_threat(text):
    assert codes(text) == ["demand_with_threat"]


@pytest.mark.parametrize(
    "text",
    [
        "Send me a voucher and this review disappears.",
        "Happy to take this review down if you offer a full refund.",
        "Still waiting for my refund. Until then this review stays.",
        "I'll change my rating to five stars as soon as you send the money.",
        "Sans geste commercial d'ici vendredi, mon avis restera en ligne.",
        "Je supprime mon commentaire contre un remboursement.",
        "Un avoir de 100 euros et je modifie ma note.",
    ],
)
def test_a_review_traded_for_a_demand_in_any_word_order_is_leverage(text):
    assert codes(text) == ["review_as_leverage"]


def test_a_demand_followed_by_or_else_is_a_threat_by_itself():
    assert codes("Refund me or else. You've been warned.") == ["demand_with_threat"]


@pytest.mark.parametrize(
    "text",
    [
        "We never got our money back. Terrible service. One star.",
        "Update: they refunded us in the end, so I'm raising this to three stars.",
        "Still waiting for my refund after three weeks. Avoid.",
        "My review stays as it is until they fix the heating.",
        "I want my money back! I will warn everyone on TripAdvisor about this place.",
        "If I don't get my refund I'll dispute the charge with my bank.",
        "The manager offered us a discount if we removed our review. We refused.",
        "The owner offered a free dinner in exchange for deleting this review. No thanks.",
        "Le gérant nous a proposé un avoir contre la suppression de notre avis. Non merci.",
        "Un avoir contre la suppression de mon avis, c'est ce qu'on m'a proposé au téléphone. "
        "Refusé, et les photos restent.",
        "We were offered a free night if we took this review down. We said no.",
        "Refund requested, and I will go to my bank if nothing comes. Either way this review "
        "stays online.",
        # "où le plancher" folds to "ou le", which is no "or"
        "40 $ de frais de nettoyage pour un chalet où le plancher collait. pris en photo pis "
        "posté sur mon fb, tout le monde au bureau va le voir",
        "Trois courriels sans réponse sur le remboursement de 200 €. Je mettrai cet avis à jour "
        "quand le dossier sera clos, quelle qu'en soit l'issue.",
        "22 dollars for a margarita that was mostly ice. the bartender laughed when i said so. "
        "posting the pic on my story, 3k people are gonna see this",
        "Le gérant a refusé de retirer quoi que ce soit de la note. Je publie cet avis et j'en "
        "parle à toute ma famille.",
        "La propriétaire a laissé entendre qu'elle pourrait faire un geste si je supprimais mes "
        "photos. Les photos restent.",
        "I was billed 90 dollars for a minibar I never opened. I will update this review once the "
        "billing is fixed for future guests.",
        # One of the benchmarks' synthetic reviews: "jusqu'à l'aube" is no condition, and a
        # spa "taché de partout" is no publicity.
        "Encore une fois, l'accueil était bruyant jusqu'à l'aube pour la deuxième nuit de suite, "
        "comme souvent dans le quartier. Dès le premier soir, le spa était taché de partout avec "
        "la rue en prime pendant tout le séjour. Pour 75 euros la nuit, je m'attendais à mieux "
        "qu'une chambre bruyant la deuxième nuit. Pour 300 euros la nuit, je m'attendais à mieux "
        "qu'une literie exigu selon un ami.",
        "The manager wrote back asking us to delete this in exchange for a voucher. We went "
        "to our bank instead, and the review stays up.",
        "Pas de remboursement, pas d'excuses. Une étoile.",
        "Annulé sans remboursement. Je publierai les photos sur Google.",
        "Mon avis restera négatif tant que rien ne change.",
    ],
)
def test_honest_anger_about_money_or_a_review_is_not_a_cue(text):
    assert codes(text) == []


def test_memoised_signatures_equal_fresh_ones():
    from ml.text import _minhash_signatures

    texts = ["the room was clean and the staff were kind", "noisy street, thin walls", ""]
    minhash_signatures(texts[:1])  # one of them seen before
    assert np.array_equal(minhash_signatures(texts), _minhash_signatures(texts, 128, 5, 1, 0))


def test_signature_memo_stays_within_its_size():
    from ml.text import _SignatureMemo

    memo = _SignatureMemo(size=4)
    for k in range(3):
        memo.signatures([f"text number {k}{j}" for j in range(2)], (8, 5, 1, 0),
                        lambda some: np.zeros((len(some), 8), dtype=np.uint32))
    assert len(memo.rows) == 4


def test_cues_of_a_text_seen_before_are_the_same_and_a_list_of_their_own():
    from ml.text import _cues_of

    text = "Refund my stay or I will post a one-star review everywhere."
    first = extortion_cues([text])[0]
    first.clear()  # a caller changing its list changes nobody else's

    again = extortion_cues([text])[0]

    assert again == _cues_of(text)
    assert again


def test_the_cue_memo_stays_within_its_size():
    from ml.text import _CueMemo

    memo = _CueMemo(size=10)
    for k in range(25):
        memo.cues(f"text number {k}")
    assert len(memo.rows) <= 10
