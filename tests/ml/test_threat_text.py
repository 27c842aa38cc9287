import numpy as np
import pytest
from scipy.sparse import hstack

from ml.text import extortion_cues, fold
from ml.threat_text import ThreatTextModel, _prepare, might_threaten, threat_model

BLACKMAIL = [
    "refund the night or my review stays online",
    "a free dinner and this review disappears",
    "pay back the deposit or the photos go on facebook",
    "give us a voucher and i delete my review",
    "money back by friday or one star everywhere",
    "remboursez la nuit ou mon avis reste en ligne",
    "un repas offert et cet avis disparait",
    "rendez l'acompte sinon les photos partent sur facebook",
]
HONEST = [
    "we asked for a refund and they refused, one star",
    "the dinner was cold and the review is deserved",
    "they kept the deposit, i posted photos of the room",
    "we got a voucher in the end, i changed my review",
    "no money back, avoid this hotel, one star",
    "remboursement refuse, une etoile",
    "repas froid, personnel desagreable, avis negatif",
    "acompte garde, j'ai publie les photos de la chambre",
]


@pytest.fixture(scope="module")
def small_model():
    labels = np.r_[np.ones(len(BLACKMAIL)), np.zeros(len(HONEST))].astype(int)
    return ThreatTextModel(c=10.0).fit(BLACKMAIL + HONEST, labels)


def test_a_text_is_read_only_when_it_names_something_wanted_and_leverage():
    assert might_threaten(fold("A refund, or my review stays."))
    assert not might_threaten(fold("The room was dirty and the staff rude."))
    assert not might_threaten(fold("I will post this review everywhere."))
    assert not might_threaten(fold("They refused the refund."))


def test_text_speak_without_apostrophes_is_read():
    assert might_threaten(fold("remboursez le menu et jenleve mon com"))


def test_a_bargain_that_names_nothing_wanted_is_read():
    assert might_threaten(fold("Ma note reste négociable, contactez-moi."))


def test_the_model_ranks_an_unseen_condition_above_an_unseen_complaint(small_model):
    threat, honest = small_model.probability([
        "refund the dinner or my review stays online",
        "they refused the refund, i posted photos of the dinner",
    ])
    assert threat > honest


def test_probabilities_equal_the_fitted_transformers_and_classifier(small_model):
    texts = ["refund me or one star", "cold food, one star", "un avoir et je retire mon avis"]
    prepared = [_prepare(t) for t in texts]
    x = hstack([w.transform(c.transform(prepared))
                for c, w in zip(small_model.counters_, small_model.weights_, strict=True)])
    expected = small_model.classifier_.predict_proba(x.tocsr())[:, 1]
    np.testing.assert_allclose(small_model.probability(texts), expected, rtol=1e-12)


def test_the_strongest_window_is_the_sentence_that_sets_the_condition(small_model):
    text = ("the breakfast was fine. the pool was closed all week. "
            "refund the night or my review stays online. parking was easy.")
    window = small_model.strongest_window(text)
    assert "refund the night or my review stays online" in text[window.start:window.end]
    assert "parking" not in text[window.start:window.end]


def test_a_window_spans_the_original_offsets_without_surrounding_spaces(small_model):
    text = "great view.   a free dinner and this review disappears.  "
    window = small_model.strongest_window(text)
    assert text[window.start] != " " and text[window.end - 1] != " "


def test_the_shipped_model_is_trained_once_per_process():
    assert threat_model() is threat_model()


@pytest.mark.parametrize(
    "text",
    [
        "We'll see if this review stays up. Depends entirely on whether we get our money back "
        "for the spa treatment that was cancelled.",
        "Geste commercial = avis modifié. Pas de geste = je fais tourner les photos dans tous "
        "les groupes Facebook de la région.",
        "wont b changing this til i get my deposit back. 200$ and the review goes away, simple",
        "Je me permets de vous suggérer un arrangement : un avoir valable sur un prochain séjour, "
        "et je reverrai bien volontiers mon évaluation.",
        "Vous me remboursez le parking, je retire mon commentaire.",
        "rembourse le menu et jefface mon com sur google",
        "Give us the spa day we paid for and I will gladly swap this review for a five-star one.",
        "Ma note est négociable. Vous savez où me trouver.",
        "Remboursez-moi le dessert et j'supprime ce com.",
        "A free night on our next trip would probably make me forget the broken shower and this "
        "review.",
        "Such a shame about the cold room. I'm sure a free night on our next visit would help me "
        "remember the good parts of this stay and edit this review accordingly.",
    ],
)
def test_blackmail_in_an_order_no_pattern_lists_is_read_as_a_cue(text):
    (cue,) = extortion_cues([text])[0]
    assert cue.code in ("demand_with_threat", "review_as_leverage")
    assert cue.quote and cue.quote in text


def test_only_accepted_windows_are_read(small_model):
    text = "refund the night or my review stays online. the breakfast was cold."
    window = small_model.strongest_window(text, accept=lambda words: "breakfast" in words)
    assert "breakfast" in text[window.start:window.end]
    assert small_model.strongest_window(text, accept=lambda words: False) is None


def test_a_long_text_is_read_by_its_windows_not_whole(small_model):
    text = "one. two. three. four. five. refund the night or my review stays online."
    window = small_model.strongest_window(text)
    assert text[window.start:window.end].startswith("five") or \
        text[window.start:window.end].startswith("refund")
