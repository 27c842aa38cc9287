"""Seeded synthetic attacks injected into a real review graph, with ground truth.

The background's who-reviewed-what graph is real (YelpChi, or any graph passed
in); everything else about it is SYNTHETIC and documented here: ratings
(establishment quality + reviewer harshness + noise), dates (2012-2019, each
establishment from its opening day on), account creation dates (a quarter of
accounts created within 20 days of their first review), verified stays (55%),
hashed identifiers (households sharing a device, carrier NAT and hotel-wifi IPs,
/24 networks of ~50 homes), display names and review texts in English and
French built from sentence templates. Attacks and hard negatives are then
appended as new rows, each labelled with the case it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ml.extortion import ReviewGuests, ThreatReports, owner_credibility
from ml.features import SECONDS_PER_DAY, ReviewColumns

__all__ = [
    "InjectedCase",
    "Scenario",
    "background_columns",
    "make_scenario",
    "synthetic_graph",
]

START = 1_325_376_000.0  # 2012-01-01 UTC
SPAN_DAYS = 8 * 365.0
DAY = SECONDS_PER_DAY

# --------------------------------------------------------------------------- #
# Text banks (synthetic reviews; slots in braces)

_SLOTS_EN = {
    "thing": [
        "room",
        "bathroom",
        "bed",
        "lobby",
        "pool",
        "breakfast room",
        "terrace",
        "carpet",
        "shower",
        "minibar",
        "view",
        "restaurant",
        "bar",
        "gym",
        "spa",
        "elevator",
        "parking",
    ],
    "good": [
        "spotless",
        "lovely",
        "comfortable",
        "spacious",
        "quiet",
        "charming",
        "modern",
        "cosy",
        "bright",
        "immaculate",
        "well kept",
        "beautiful",
    ],
    "bad": [
        "dirty",
        "tiny",
        "noisy",
        "broken",
        "smelly",
        "outdated",
        "freezing",
        "stained",
        "filthy",
        "cramped",
        "dusty",
        "sticky",
    ],
    "staff": [
        "receptionist",
        "night manager",
        "waiter",
        "concierge",
        "housekeeper",
        "bartender",
        "host",
        "manager",
        "chef",
        "doorman",
    ],
    "food": [
        "croissants",
        "pancakes",
        "fresh fruit",
        "eggs benedict",
        "coffee",
        "pastries",
        "omelettes",
        "local cheese",
        "smoked salmon",
        "waffles",
        "oysters",
        "risotto",
        "steak",
        "soup",
    ],
    "place": [
        "the river",
        "the station",
        "the old town",
        "the museum",
        "the lake",
        "the park",
        "the convention centre",
        "the beach",
        "the market",
        "the cathedral",
    ],
    "who": [
        "my wife",
        "my husband",
        "our kids",
        "my parents",
        "a friend",
        "my colleagues",
        "my partner",
        "my sister",
    ],
    "n": ["two", "three", "four", "five", "six", "ten", "twenty", "forty"],
    "when": [
        "Friday night",
        "last weekend",
        "in March",
        "over Easter",
        "in late August",
        "on a business trip",
        "for our anniversary",
        "during the festival",
        "in December",
        "on a Tuesday",
    ],
    "noise": [
        "the bar downstairs",
        "the street",
        "the elevator",
        "a wedding party",
        "the air conditioning",
        "the kitchen",
        "construction work",
    ],
    "price": ["120", "150", "180", "200", "240", "90", "300", "75"],
}
_SENTENCES_EN = {
    "pos": [
        "The {thing} was {good} and the {thing2} even better.",
        "Our {staff} was friendly and sorted out everything for {who}.",
        "We stayed {n} nights {when} and would gladly return.",
        "Breakfast had {food} and {food2}, all {good}.",
        "Great location, a short walk from {place}.",
        "The {food} at dinner was the best we had on the trip.",
        "Everything about the {thing} felt {good}, worth every penny.",
        "{who} loved the {thing} and the {good} {thing2}.",
        "Check-in took {n} minutes and the {staff} gave us tips about {place}.",
        "A {good} spot for a weekend, we will recommend it to {who}.",
    ],
    "mid": [
        "The {thing} was {good} but the {thing2} was {bad}.",
        "Decent stay {when}, nothing special for {price} dollars.",
        "The {staff} was polite, the {food} rather average.",
        "Nice {thing}, although {noise} was loud at night.",
        "Fine for {n} nights if you just need a bed near {place}.",
    ],
    "neg": [
        "The {thing} was {bad} and nobody seemed to care.",
        "We waited {n} minutes at check-in while the {staff} chatted.",
        "The {thing} smelled and the {thing2} was {bad}.",
        "Noise from {noise} kept us awake until three.",
        "For {price} dollars a night I expected much better than a {bad} {thing}.",
        "The {staff} was rude when {who} asked about the {thing}.",
        "The {food} was cold and the {thing} was {bad}.",
        "We stayed {n} nights {when} and regretted every one of them.",
        "Avoid the {thing}, it is {bad} and overpriced.",
    ],
    "refund": [
        "I asked for a refund for the {thing}, they refused, so here is my review.",
        "We requested a partial refund at checkout; the {staff} refused and was rude.",
        "No refund, no apology, nothing for a {bad} {thing}.",
        "They promised a refund for the {bad} {thing} but it never came.",
        "I asked for compensation or at least a discount and got nothing.",
        "The {staff} told us refunds are impossible, even for a {bad} {thing}.",
    ],
}
_SLOTS_FR = {
    "thing": [
        "chambre",
        "salle de bain",
        "literie",
        "piscine",
        "salle du petit-déjeuner",
        "terrasse",
        "moquette",
        "douche",
        "vue",
        "restaurant",
        "bar",
        "spa",
        "ascenseur",
        "parking",
    ],
    "good": [
        "impeccable",
        "charmant",
        "confortable",
        "spacieux",
        "calme",
        "moderne",
        "lumineux",
        "propre",
        "magnifique",
        "agréable",
    ],
    "bad": [
        "sale",
        "minuscule",
        "bruyant",
        "cassé",
        "vétuste",
        "glacial",
        "taché",
        "poussiéreux",
        "exigu",
        "délabré",
    ],
    "staff": [
        "réceptionniste",
        "veilleur de nuit",
        "serveur",
        "concierge",
        "femme de chambre",
        "barman",
        "directeur",
        "chef",
    ],
    "food": [
        "croissants",
        "crêpes",
        "fruits frais",
        "œufs brouillés",
        "café",
        "viennoiseries",
        "fromages",
        "saumon fumé",
        "gaufres",
        "huîtres",
        "risotto",
        "entrecôte",
    ],
    "place": [
        "la gare",
        "la vieille ville",
        "le musée",
        "le lac",
        "le parc",
        "la plage",
        "le marché",
        "la cathédrale",
        "le port",
    ],
    "who": [
        "ma femme",
        "mon mari",
        "nos enfants",
        "mes parents",
        "un ami",
        "mes collègues",
        "ma sœur",
    ],
    "n": ["deux", "trois", "quatre", "cinq", "six", "dix", "vingt", "quarante"],
    "when": [
        "un vendredi soir",
        "le week-end dernier",
        "en mars",
        "à Pâques",
        "fin août",
        "en voyage d'affaires",
        "pour notre anniversaire",
        "en décembre",
    ],
    "noise": [
        "le bar du rez-de-chaussée",
        "la rue",
        "l'ascenseur",
        "un mariage",
        "la climatisation",
        "la cuisine",
        "des travaux",
    ],
    "price": ["120", "150", "180", "200", "240", "90", "300", "75"],
}
_SENTENCES_FR = {
    "pos": [
        "La {thing} était {good} et la {thing2} encore mieux.",
        "Le {staff} a été adorable et s'est occupé de tout pour {who}.",
        "Nous sommes restés {n} nuits {when} et reviendrons avec plaisir.",
        "Au petit-déjeuner, {food} et {food2}, tout était parfait.",
        "Très bien situé, à deux pas de {place}.",
        "Les {food} du dîner étaient les meilleurs du séjour.",
        "{who} a adoré la {thing}, vraiment {good}.",
        "Un endroit {good} pour un week-end, nous le conseillerons à {who}.",
    ],
    "mid": [
        "La {thing} était {good} mais la {thing2} {bad}.",
        "Séjour correct {when}, sans plus pour {price} euros.",
        "Le {staff} était poli, les {food} assez moyens.",
        "Bien pour {n} nuits si l'on veut être près de {place}.",
    ],
    "neg": [
        "La {thing} était {bad} et personne ne s'en souciait.",
        "Nous avons attendu {n} minutes à l'accueil pendant que le {staff} discutait.",
        "La {thing} sentait mauvais et la {thing2} était {bad}.",
        "Le bruit de {noise} nous a empêchés de dormir.",
        "Pour {price} euros la nuit, je m'attendais à mieux qu'une {thing} {bad}.",
        "Le {staff} a été désagréable quand {who} a posé une question.",
        "Les {food} étaient froids et la {thing} {bad}.",
        "À éviter, la {thing} est {bad} et hors de prix.",
    ],
    "refund": [
        "J'ai demandé un remboursement pour la {thing}, refusé, voici mon avis.",
        "Nous avons demandé un geste commercial, le {staff} a refusé sèchement.",
        "Aucun remboursement, aucune excuse pour une {thing} {bad}.",
        "On nous avait promis un remboursement pour la {thing} {bad}, jamais reçu.",
        "Le {staff} nous a dit qu'aucun dédommagement n'était possible.",
    ],
}
_INCIDENT = {
    "en": [
        "Half of our group got food poisoning after the buffet.",
        "They cancelled our confirmed booking the day before arrival.",
        "There was no hot water for the whole weekend.",
        "A bed bug problem they clearly knew about.",
        "The fire alarm went off all night and nobody explained anything.",
    ],
    "fr": [
        "La moitié de notre groupe a été intoxiquée après le buffet.",
        "Ils ont annulé notre réservation confirmée la veille de l'arrivée.",
        "Pas d'eau chaude de tout le week-end.",
        "Des punaises de lit dont ils étaient visiblement au courant.",
        "L'alarme incendie a sonné toute la nuit sans explication.",
    ],
}
_THREATS = {
    "en": [
        "Refund my stay or I will post a 1-star review on every site.",
        "Give me a free night or I'll make sure everyone knows how bad this place is.",
        "If you don't refund me by Friday, I'm going to post this everywhere.",
        "Unless you comp the bill, I will leave a review that tells the truth.",
        "I have 50k followers. Refund me or this goes online tonight.",
        "I will remove my review if you refund me.",
        "You have until Monday to make this right, after that TripAdvisor hears everything.",
    ],
    "fr": [
        "Remboursez-moi sinon je publie un avis sur tous les sites.",
        "Si vous ne me remboursez pas, je publie mon avis partout.",
        "Un geste commercial ou je laisse une étoile sur Google.",
        "J'ai 20 000 abonnés. Remboursez-moi ou je balance tout.",
        "Je retirerai mon avis dès que vous m'aurez remboursé.",
        "Vous avez jusqu'à lundi pour arranger ça, après tout le monde saura.",
    ],
}
_PARAPHRASES = {
    "en": [
        "The guest said that if we didn't refund him he would post a 1-star review everywhere.",
        "She told our receptionist she'd leave a terrible review unless we gave her a free night.",
        "He demanded a full refund and said he would post a bad review if we refused.",
    ],
    "fr": [
        "Le client a dit que si on ne le remboursait pas, il publierait un avis négatif.",
        "S'il n'est pas remboursé, il va publier un avis assassin, nous a-t-il dit.",
        "La cliente a exigé une nuit offerte, sinon elle laisserait une étoile partout.",
    ],
}
_REVIEW_THREAT_LINES = {
    "en": ["Refund me or this stays.", "This review stays until I get my refund."],
    "fr": [
        "Remboursez-moi sinon cet avis reste en ligne.",
        "Un geste commercial ou mon avis reste.",
    ],
}
_FALSE_REPORT_TEXT = {
    "en": [
        "This guest is posting lies to damage our reputation. Please remove the review.",
        "The review is unfair and written to hurt us, we want it taken down.",
        "This person complained during the whole stay and now attacks us online.",
    ],
    "fr": [
        "Ce client publie des mensonges pour nuire à notre réputation. Merci de retirer l'avis.",
        "Cet avis est injuste et écrit pour nous nuire, nous demandons son retrait.",
    ],
}
_FIRST = {
    "en": [
        "James",
        "Mary",
        "John",
        "Patricia",
        "Robert",
        "Jennifer",
        "Michael",
        "Linda",
        "David",
        "Susan",
        "William",
        "Karen",
        "Thomas",
        "Nancy",
        "Daniel",
        "Lisa",
        "Matthew",
        "Emily",
        "Andrew",
        "Sarah",
        "Joshua",
        "Laura",
        "Kevin",
        "Rachel",
        "Brian",
        "Megan",
    ],
    "fr": [
        "Jean",
        "Marie",
        "Pierre",
        "Sophie",
        "Nicolas",
        "Camille",
        "Julien",
        "Émilie",
        "Thomas",
        "Hélène",
        "Mathieu",
        "Céline",
        "Antoine",
        "Léa",
        "François",
        "Chloé",
        "Étienne",
        "Manon",
        "Olivier",
        "Inès",
        "Sébastien",
        "Aurélie",
        "Rémi",
        "Anaïs",
    ],
}
_LAST = {
    "en": [
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Miller",
        "Davis",
        "Wilson",
        "Anderson",
        "Taylor",
        "Moore",
        "Jackson",
        "Martin",
        "Thompson",
        "White",
        "Harris",
        "Clark",
        "Lewis",
        "Walker",
        "Young",
        "Allen",
        "King",
        "Wright",
        "Scott",
        "Green",
        "Baker",
        "Adams",
        "Nelson",
        "Hill",
        "Campbell",
    ],
    "fr": [
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefèvre",
        "Michel",
        "Garcia",
        "David",
        "Bertrand",
        "Roux",
        "Vincent",
        "Fournier",
        "Morel",
        "Girard",
        "André",
        "Mercier",
        "Dupont",
        "Lambert",
        "Bonnet",
        "François",
        "Legrand",
        "Gauthier",
    ],
}


_OPENERS = {
    "en": [
        "",
        "",
        "",
        "Honestly, ",
        "To be fair, ",
        "On our first evening, ",
        "Sadly, ",
        "As expected, ",
        "Surprisingly, ",
        "For what it's worth, ",
        "On the last day, ",
        "Right away, ",
        "Overall, ",
        "In short, ",
        "I have to say ",
        "Frankly, ",
        "Once again, ",
        "At first, ",
        "Mind you, ",
    ],
    "fr": [
        "",
        "",
        "",
        "Honnêtement, ",
        "Pour être juste, ",
        "Dès le premier soir, ",
        "Malheureusement, ",
        "Comme prévu, ",
        "Étonnamment, ",
        "Le dernier jour, ",
        "Globalement, ",
        "Bref, ",
        "Franchement, ",
        "Encore une fois, ",
        "Au début, ",
        "Il faut dire que ",
    ],
}
_TAILS = {
    "en": [
        "",
        "",
        "",
        " when we arrived",
        " on the second night",
        ", to be honest",
        ", which says a lot",
        " despite the price",
        " compared with last year",
        " for a change",
        " in my opinion",
        " as far as I could tell",
        ", like most places around here",
        " during our whole stay",
        " according to {who}",
        " the morning we left",
    ],
    "fr": [
        "",
        "",
        "",
        " à notre arrivée",
        " la deuxième nuit",
        ", pour être honnête",
        " malgré le prix",
        " par rapport à l'an dernier",
        " à mon avis",
        " pendant tout le séjour",
        ", comme souvent dans le quartier",
        " selon {who}",
        " le matin du départ",
    ],
}


_SYLLABLES = {
    "en": [
        "ash",
        "bar",
        "bel",
        "brad",
        "carl",
        "dal",
        "den",
        "ed",
        "far",
        "gar",
        "hal",
        "har",
        "kel",
        "lan",
        "mar",
        "nor",
        "pen",
        "ram",
        "ros",
        "sel",
        "stan",
        "thorn",
        "wal",
        "wes",
        "win",
    ],
    "fr": [
        "bel",
        "ber",
        "bou",
        "cha",
        "cour",
        "dar",
        "del",
        "fon",
        "gar",
        "jou",
        "la",
        "lam",
        "mar",
        "mon",
        "pel",
        "ra",
        "ro",
        "sau",
        "tal",
        "ver",
        "vil",
        "gui",
        "cas",
        "bro",
    ],
}
_ENDINGS = {
    "en": [
        "by",
        "ford",
        "ham",
        "ley",
        "ton",
        "ridge",
        "field",
        "stone",
        "worth",
        "wood",
        "well",
        "more",
        "son",
        "ley",
        "cott",
    ],
    "fr": [
        "ard",
        "aud",
        "eau",
        "et",
        "ier",
        "in",
        "ot",
        "ville",
        "court",
        "champ",
        "mont",
        "lac",
        "rieux",
        "bois",
        "lin",
    ],
}


def _person_name(rng: np.random.Generator, lang: str) -> str:
    """A first name and a surname: a common one 40% of the time, else a rarer
    built one, so that names collide about as rarely as real ones."""
    first = _FIRST[lang][int(rng.integers(len(_FIRST[lang])))]
    if rng.random() < 0.4:
        return f"{first} {_LAST[lang][int(rng.integers(len(_LAST[lang])))]}"
    parts = [
        _SYLLABLES[lang][int(rng.integers(len(_SYLLABLES[lang])))]
        for _ in range(int(rng.integers(1, 3)))
    ]
    last = "".join(parts) + _ENDINGS[lang][int(rng.integers(len(_ENDINGS[lang])))]
    return f"{first} {last.capitalize()}"


# Sentence fragments: subject + predicate (+ complement), so that unrelated
# synthetic reviews share short phrases, not whole sentence skeletons.
_FRAGMENTS = {
    "en": {
        "subject": [
            "the room",
            "our room",
            "the suite",
            "the bathroom",
            "the bed",
            "the lobby",
            "the pool area",
            "the breakfast",
            "the coffee",
            "the dinner menu",
            "the wine list",
            "the service",
            "the front desk",
            "the cleaning",
            "the view from the balcony",
            "the location",
            "the parking garage",
            "the wifi",
            "the air conditioning",
            "the spa",
            "the terrace bar",
            "the check-out",
            "the shuttle",
            "the housekeeping team",
            "the concierge desk",
            "the rooftop",
            "the elevator",
            "the hallway carpet",
            "the tasting menu",
            "the brunch",
        ],
        "pos": [
            "was spotless",
            "exceeded what we expected",
            "felt brand new",
            "was a real highlight",
            "made the trip",
            "was worth every cent",
            "could not have been better",
            "was quiet and relaxing",
            "impressed the whole family",
            "was generous",
            "stayed perfect all week",
            "felt like home",
            "was beautifully done",
            "won us over",
            "deserves five stars on its own",
        ],
        "mid": [
            "was fine",
            "was okay but dated",
            "did the job",
            "was average at best",
            "could use an update",
            "was hit and miss",
            "was acceptable for the price",
            "was nothing special",
            "worked most of the time",
            "was smaller than pictured",
        ],
        "neg": [
            "was filthy",
            "smelled of smoke",
            "was broken on arrival",
            "never worked",
            "was a disgrace",
            "was freezing cold",
            "ruined our weekend",
            "was overpriced for what it is",
            "looked nothing like the photos",
            "was noisy until dawn",
            "had stains everywhere",
            "was painfully slow",
            "was closed without notice",
            "took forever",
        ],
        "pos_more": [
            "and the staff remembered our names",
            "even on a busy Saturday",
            "which {who} loved",
            "and the {food} deserves a mention",
            "after a long flight",
            "despite the crowds",
            "so we extended by a night",
            "and we got a late check-out",
            "thanks to the {staff}",
            "for a very fair price",
        ],
        "mid_more": [
            "but we expected more",
            "though the {staff} was kind",
            "for a one-night stop",
            "if you are not fussy",
            "compared with the {food}",
        ],
        "neg_more": [
            "and nobody apologised",
            "even after we asked twice",
            "and the {staff} just shrugged",
            "for the second night in a row",
            "while we paid full price",
            "so we left a day early",
            "and management never called back",
            "which {who} still talks about",
            "with {noise} on top of it",
        ],
    },
    "fr": {
        "subject": [
            "la chambre",
            "notre chambre",
            "la suite",
            "la salle de bain",
            "la literie",
            "le hall",
            "la piscine",
            "le petit-déjeuner",
            "le café",
            "la carte du dîner",
            "la carte des vins",
            "le service",
            "l'accueil",
            "le ménage",
            "la vue du balcon",
            "l'emplacement",
            "le parking",
            "le wifi",
            "la climatisation",
            "le spa",
            "le bar de la terrasse",
            "le départ",
            "la navette",
            "l'équipe de ménage",
            "la conciergerie",
            "le rooftop",
            "l'ascenseur",
            "le menu dégustation",
            "le brunch",
        ],
        "pos": [
            "était impeccable",
            "a dépassé nos attentes",
            "semblait neuf",
            "a été un vrai plaisir",
            "valait chaque centime",
            "ne pouvait pas être mieux",
            "était calme et reposant",
            "a ravi toute la famille",
            "était généreux",
            "était parfait toute la semaine",
            "nous a conquis",
            "mérite cinq étoiles à lui seul",
        ],
        "mid": [
            "était correct",
            "était correct mais daté",
            "faisait l'affaire",
            "était moyen",
            "mériterait un rafraîchissement",
            "était inégal",
            "était acceptable pour le prix",
            "n'avait rien de spécial",
            "était plus petit qu'en photo",
        ],
        "neg": [
            "était sale",
            "sentait le tabac",
            "était en panne à l'arrivée",
            "n'a jamais fonctionné",
            "était une honte",
            "était glacial",
            "a gâché notre week-end",
            "était hors de prix",
            "ne ressemblait pas aux photos",
            "était bruyant jusqu'à l'aube",
            "était taché de partout",
            "était d'une lenteur pénible",
            "était fermé sans prévenir",
        ],
        "pos_more": [
            "et le personnel connaissait nos prénoms",
            "même un samedi chargé",
            "ce que {who} a adoré",
            "et les {food} méritent une mention",
            "après un long vol",
            "malgré la foule",
            "alors nous avons prolongé d'une nuit",
            "grâce au {staff}",
        ],
        "mid_more": [
            "mais nous attendions mieux",
            "même si le {staff} était aimable",
            "pour une nuit de passage",
            "si l'on n'est pas exigeant",
        ],
        "neg_more": [
            "et personne ne s'est excusé",
            "même après deux demandes",
            "et le {staff} a haussé les épaules",
            "pour la deuxième nuit de suite",
            "alors que nous avons payé plein tarif",
            "alors nous sommes partis un jour plus tôt",
            "et la direction n'a jamais rappelé",
            "avec {noise} en prime",
        ],
    },
}


class _Texts:
    """Pools of distinct synthetic sentences per (language, tone)."""

    def __init__(self, rng: np.random.Generator, pool: int) -> None:
        self.rng = rng
        self.pools: dict[tuple[str, str], list[str]] = {}
        for lang, bank, slots in (
            ("en", _SENTENCES_EN, _SLOTS_EN),
            ("fr", _SENTENCES_FR, _SLOTS_FR),
        ):
            for tone, templates in bank.items():
                openers, tails = _OPENERS[lang], _TAILS[lang]
                self.pools[(lang, tone)] = [
                    self._fill(
                        openers[int(rng.integers(len(openers)))]
                        + self._core(lang, tone, templates)
                        + tails[int(rng.integers(len(tails)))]
                        + ".",
                        slots,
                    )
                    for _ in range(pool)
                ]

    def _core(self, lang: str, tone: str, templates: list[str]) -> str:
        """A sentence without its final stop: a template 1 time in 4 (always for
        refund complaints), else subject + predicate (+ complement)."""
        rng, frag = self.rng, _FRAGMENTS[lang]
        if tone not in frag or rng.random() < 0.25:
            return templates[int(rng.integers(len(templates)))].rstrip(".")
        words = [
            frag["subject"][int(rng.integers(len(frag["subject"])))],
            frag[tone][int(rng.integers(len(frag[tone])))],
        ]
        if rng.random() < 0.6:
            more = frag[tone + "_more"]
            words.append(more[int(rng.integers(len(more)))])
        return " ".join(words)

    def _fill(self, template: str, slots: dict[str, list[str]]) -> str:
        out = template
        for name, values in slots.items():
            for key in (name, name + "2"):
                token = "{" + key + "}"
                if token in out:
                    value = values[int(self.rng.integers(len(values)))]
                    out = out.replace(token, value, 1)
        # The opener leaves the template's capital in the middle of the sentence.
        for opener in _OPENERS["en"] + _OPENERS["fr"]:
            if opener and out.startswith(opener):
                rest = out[len(opener) :]
                keep = rest.startswith(("I ", "I'"))
                if not keep:
                    rest = rest[:1].lower() + rest[1:]
                out = opener + rest
                break
        return out[0].upper() + out[1:]

    def reviews(self, lang: np.ndarray, tone: np.ndarray, k: np.ndarray) -> list[str]:
        """One review per row: ``k`` sentences of the row's (language, tone) pool."""
        out = [""] * len(lang)
        for (lg, tn), pool in self.pools.items():
            rows = np.flatnonzero((lang == lg) & (tone == tn))
            if len(rows) == 0:
                continue
            kmax = int(k[rows].max())
            pick = self.rng.integers(len(pool), size=(len(rows), kmax))
            for row, choice, kk in zip(rows.tolist(), pick.tolist(), k[rows].tolist(), strict=True):
                out[row] = " ".join(pool[c] for c in choice[:kk])
        return out

    def one(self, lang: str, tone: str, k: int) -> str:
        return self.reviews(np.array([lang]), np.array([tone]), np.array([k]))[0]


def _tone(rating: np.ndarray) -> np.ndarray:
    return np.where(rating >= 4, "pos", np.where(rating >= 3, "mid", "neg"))


def _spin(
    rng: np.random.Generator, template: list[str], texts: _Texts, lang: str, tone: str
) -> str:
    """A member's copy of a shared template: a sentence swapped (1 time in 3),
    order nudged, case changed, punctuation varied."""
    sentences = list(template)
    if rng.random() < 1 / 3:
        sentences[int(rng.integers(len(sentences)))] = texts.one(lang, tone, 1)
    if rng.random() < 0.5 and len(sentences) > 2:
        i = int(rng.integers(len(sentences) - 1))
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    text = " ".join(sentences)
    if rng.random() < 0.3:
        text = text.replace(".", "!")
    return text.lower() if rng.random() < 0.2 else text


# --------------------------------------------------------------------------- #
# Background


def synthetic_graph(
    n_reviews: int, n_reviewers: int, n_establishments: int, *, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A review graph with heavy-tailed activity and popularity: (reviewer, establishment) codes."""
    rng = np.random.default_rng(random_state)
    activity = rng.pareto(1.6, n_reviewers) + 1.0
    popularity = rng.pareto(1.2, n_establishments) + 1.0
    # Every reviewer writes at least one review; the rest follow activity.
    extra = rng.choice(n_reviewers, size=n_reviews - n_reviewers, p=activity / activity.sum())
    reviewer = np.concatenate((np.arange(n_reviewers), extra))
    establishment = rng.choice(n_establishments, size=n_reviews, p=popularity / popularity.sum())
    order = rng.permutation(n_reviews)
    return reviewer[order].astype(np.int64), establishment[order].astype(np.int64)


@dataclass
class _Background:
    cols: ReviewColumns
    guests: ReviewGuests
    est_partner: np.ndarray
    est_quality: np.ndarray
    lang_of_reviewer: np.ndarray
    names: list[str]


def background_columns(
    reviewer: np.ndarray,
    establishment: np.ndarray,
    *,
    with_text: bool = True,
    random_state: int = 0,
) -> tuple[ReviewColumns, ReviewGuests]:
    """Synthetic but plausible columns for a real graph (see the module docstring)."""
    bg = _background(np.asarray(reviewer), np.asarray(establishment), with_text, random_state)
    return bg.cols, bg.guests


def _background(reviewer, establishment, with_text, random_state) -> _Background:
    rng = np.random.default_rng(random_state)
    _, rev = np.unique(reviewer, return_inverse=True)
    _, est = np.unique(establishment, return_inverse=True)
    rev, est = rev.astype(np.int64), est.astype(np.int64)
    n, n_rev, n_est = len(rev), int(rev.max()) + 1, int(est.max()) + 1

    opening = rng.uniform(0, 0.4 * SPAN_DAYS, n_est)
    day = opening[est] + (SPAN_DAYS - opening[est]) * rng.beta(1.3, 1.0, n)
    created = START + day * DAY + rng.uniform(8, 23, n) * 3600
    quality = np.clip(rng.normal(3.9, 0.45, n_est), 2.2, 4.8)
    harsh = rng.normal(0, 0.4, n_rev)
    rating = np.clip(np.round(quality[est] + harsh[rev] + rng.normal(0, 0.9, n)), 1, 5)

    first = np.full(n_rev, np.inf)
    np.minimum.at(first, rev, created)
    age = np.where(rng.random(n_rev) < 0.25, rng.uniform(0, 20, n_rev), rng.exponential(600, n_rev))
    account = (first - age * DAY)[rev]

    verified = rng.random(n) < 0.55
    booking = np.where(verified, 10_000_000 + np.arange(n), -1)
    email = np.where(rng.random(n_rev) < 0.92, np.arange(n_rev), -1)
    device = np.arange(n_rev, dtype=np.int64)
    # Households: 1.5% of accounts share a device with one other account.
    pairs = rng.choice(n_rev, size=(int(0.015 * n_rev) // 2, 2), replace=False)
    device[pairs[:, 1]] = device[pairs[:, 0]]
    home = rng.permutation(n_rev)  # home IP code; a /24 holds ~50 homes
    kind = rng.random(n)
    nat = 5_000_000 + np.minimum(rng.zipf(1.5, n), 2000)
    wifi = 6_000_000 + est
    ip = np.where(kind < 0.7, home[rev], np.where(kind < 0.9, nat, wifi))
    ip24 = np.where(kind < 0.7, home[rev] // 50, np.where(kind < 0.9, nat // 256 + 200_000, wifi))

    lang_of_reviewer = np.where(rng.random(n_rev) < 0.75, "en", "fr")
    names = [_person_name(rng, lg) for lg in lang_of_reviewer.tolist()]
    text = None
    if with_text:
        texts = _Texts(rng, pool=int(min(60_000, max(2_000, n // 3))))
        tone = _tone(rating)
        refund = (tone == "neg") & (rng.random(n) < 0.05)
        tone = np.where(refund, "refund", tone)
        text = texts.reviews(lang_of_reviewer[rev], tone, rng.integers(2, 5, n))
    cols = ReviewColumns(
        reviewer=rev,
        establishment=est,
        rating=rating,
        created_at=created,
        account_created_at=account,
        verified_stay=verified,
        email=email[rev],
        device=device[rev],
        ip=ip.astype(np.int64),
        ip24=ip24.astype(np.int64),
        text=text,
    )
    est_partner = (rng.random(n_est) < 0.4).astype(np.int64)
    guests = ReviewGuests(
        booking_ref=booking.astype(np.int64),
        name=[names[r] for r in rev.tolist()],
        partner=est_partner[est],
    )
    return _Background(cols, guests, est_partner, quality, lang_of_reviewer, names)


# --------------------------------------------------------------------------- #
# Scenario


@dataclass(frozen=True)
class InjectedCase:
    """One injected item and where it lives in the scenario's rows."""

    kind: str  # ring | extortion | serial_extortion | bombing | honest_negative | organic_outrage | false_report
    case_id: int  # index among the cases of its kind
    rows: np.ndarray  # int64 review rows of the case (a ring: every review of its members)
    reviewers: np.ndarray  # int64 reviewer codes involved
    reports: np.ndarray  # int64 threat report rows
    establishments: np.ndarray  # int64 establishment codes
    variant: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    reviews: ReviewColumns
    guests: ReviewGuests
    reports: ThreatReports
    owner_confirmed: np.ndarray  # per owner code (= establishment code): past confirmed reports
    owner_dismissed: np.ndarray  # per owner code: past dismissed reports
    row_kind: np.ndarray  # str per review row: "background" or the injected kind
    cases: list[InjectedCase]
    n_background: int  # rows [0, n_background) are the background

    def report_credibility(self) -> np.ndarray:
        """Credibility of each report's owner from their history (``owner_credibility``)."""
        owner = np.asarray(self.reports.owner, dtype=np.int64)
        return owner_credibility(self.owner_confirmed[owner], self.owner_dismissed[owner])

    def cases_of(self, kind: str) -> list[InjectedCase]:
        return [c for c in self.cases if c.kind == kind]


class _Builder:
    """Accumulates appended review rows and report rows."""

    REVIEW_FIELDS = (
        "reviewer",
        "establishment",
        "rating",
        "created_at",
        "account_created_at",
        "verified_stay",
        "email",
        "device",
        "ip",
        "ip24",
        "text",
        "booking_ref",
        "name",
    )
    REPORT_FIELDS = (
        "establishment",
        "received_at",
        "owner",
        "email",
        "booking_ref",
        "handle",
        "name",
        "partner",
        "message_text",
    )

    def __init__(self, bg: _Background, rng: np.random.Generator) -> None:
        self.bg, self.rng = bg, rng
        self.n0 = len(bg.cols)
        self.rows: dict[str, list] = {k: [] for k in self.REVIEW_FIELDS}
        self.kind: list[str] = []
        self.reports: dict[str, list] = {k: [] for k in self.REPORT_FIELDS}
        self.next_reviewer = int(bg.cols.reviewer.max()) + 1
        self.next_id = 50_000_000  # fresh identifier codes (emails, devices, IPs, bookings)

    def fresh(self, k: int = 1) -> np.ndarray:
        out = np.arange(self.next_id, self.next_id + k, dtype=np.int64)
        self.next_id += k
        return out

    def net(self) -> int:
        """A random home /24 network, as unrelated accounts have."""
        return 90_000_000 + int(self.rng.integers(0, 50_000_000))

    def new_reviewers(self, k: int) -> np.ndarray:
        out = np.arange(self.next_reviewer, self.next_reviewer + k, dtype=np.int64)
        self.next_reviewer += k
        return out

    def add_review(self, kind: str, **values) -> int:
        for key in self.REVIEW_FIELDS:
            self.rows[key].append(values.get(key, -1 if key not in ("text", "name") else ""))
        self.kind.append(kind)
        return self.n0 + len(self.kind) - 1

    def add_report(self, **values) -> int:
        for key in self.REPORT_FIELDS:
            self.reports[key].append(
                values.get(key, -1 if key not in ("name", "message_text") else "")
            )
        return len(self.reports["establishment"]) - 1

    def rating_at(self, e: int) -> float:
        q = self.bg.est_quality[e]
        return float(np.clip(np.round(q + self.rng.normal(0, 0.9)), 1, 5))

    def build(self) -> tuple[ReviewColumns, ReviewGuests, ThreatReports, np.ndarray]:
        bg, r = self.bg.cols, self.rows

        def cat(name, dtype):
            return np.concatenate((np.asarray(getattr(bg, name)), np.asarray(r[name], dtype=dtype)))

        text = list(bg.text) + list(r["text"]) if bg.text is not None else None
        cols = ReviewColumns(
            reviewer=cat("reviewer", np.int64),
            establishment=cat("establishment", np.int64),
            rating=cat("rating", np.float64),
            created_at=cat("created_at", np.float64),
            account_created_at=cat("account_created_at", np.float64),
            verified_stay=np.concatenate((bg.verified_stay, np.asarray(r["verified_stay"]) == 1)),
            email=cat("email", np.int64),
            device=cat("device", np.int64),
            ip=cat("ip", np.int64),
            ip24=cat("ip24", np.int64),
            text=text,
        )
        partner = self.bg.est_partner[cols.establishment]
        guests = ReviewGuests(
            booking_ref=np.concatenate(
                (self.bg.guests.booking_ref, np.asarray(r["booking_ref"], dtype=np.int64))
            ),
            name=list(self.bg.guests.name) + list(r["name"]),
            partner=partner,
        )
        p = self.reports
        reports = ThreatReports(
            establishment=np.asarray(p["establishment"], dtype=np.int64),
            received_at=np.asarray(p["received_at"], dtype=np.float64),
            owner=np.asarray(p["owner"], dtype=np.int64),
            email=np.asarray(p["email"], dtype=np.int64),
            booking_ref=np.asarray(p["booking_ref"], dtype=np.int64),
            handle=np.asarray(p["handle"], dtype=np.int64),
            name=list(p["name"]),
            partner=np.asarray(p["partner"], dtype=np.int64),
            message_text=list(p["message_text"]),
        )
        kind = np.array(["background"] * self.n0 + self.kind, dtype=object)
        return cols, guests, reports, kind


def _name_variant(rng: np.random.Generator, name: str) -> str:
    """How an owner (or a platform) may write the same guest's name."""
    first, last = name.split(" ", 1)
    choice = int(rng.integers(6))
    if choice == 0:
        return name
    if choice == 1:
        return f"{last} {first}"
    if choice == 2:
        return name.upper()
    if choice == 3:
        import unicodedata

        return "".join(
            c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
        ).lower()
    if choice == 4 and len(last) > 4:
        i = int(rng.integers(1, len(last) - 2))
        return f"{first} {last[:i]}{last[i + 1]}{last[i]}{last[i + 2 :]}"
    return f"{first[0]}. {last}"


def make_scenario(
    reviewer: np.ndarray,
    establishment: np.ndarray,
    *,
    n_rings: int = 12,
    n_extortions: int = 60,
    n_serial: int = 6,
    n_bombings: int = 10,
    n_organic: int = 10,
    n_honest: int = 300,
    n_false_reports: int = 40,
    n_slow_rings: int = 2,
    random_state: int = 0,
) -> Scenario:
    """Inject labelled attacks and hard negatives into the graph (reviewer, establishment).

    Rings (5-50 accounts; shared device, /24 network, email or nothing; with or
    without camouflage reviews of popular establishments; templated or diverse
    texts; each target hit within a few days), extortion (threat report then
    the bad review, or the review up to 3 days first; the guest known by email,
    booking reference, handle or only a name variant; EN and FR), serial
    extortionists (one guest, 2-4 establishments, both partners), coordinated
    bombing (new one-shot accounts without stays; shared infrastructure and/or
    templated text, or neither), and hard negatives: honest negative reviews
    mentioning refunds, organic outrage (established reviewers, verified stays,
    one real incident) and false owner reports naming an honest critic (most
    from owners with a record of dismissed reports). Then ``n_slow_rings``
    stress rings (variant ``slow``): each target hit over 20-60 days, no shared
    identifier, camouflage, own words. Deterministic per seed.
    """
    rng = np.random.default_rng(random_state)
    bg = _background(np.asarray(reviewer), np.asarray(establishment), True, random_state)
    b = _Builder(bg, rng)
    texts = _Texts(rng, pool=2000)
    cols = bg.cols
    n_est = int(cols.establishment.max()) + 1
    est_count = np.bincount(cols.establishment, minlength=n_est)
    popular = np.argsort(-est_count)[: max(5, n_est // 5)]
    busy = np.flatnonzero(est_count >= 30)
    rev_count = np.bincount(cols.reviewer)
    regulars = np.flatnonzero(rev_count >= 2)
    event_lo, event_hi = START + 4 * 365 * DAY, START + SPAN_DAYS * DAY - 60 * DAY
    cases: list[InjectedCase] = []
    owner_confirmed = rng.poisson(0.5, n_est).astype(np.int64)
    owner_dismissed = (rng.random(n_est) < 0.15).astype(np.int64)
    used_est: set[int] = set()

    def pick_establishments(k: int, pool: np.ndarray) -> np.ndarray:
        free = np.array([e for e in pool.tolist() if e not in used_est])
        chosen = rng.choice(free if len(free) >= k else pool, size=k, replace=False)
        used_est.update(chosen.tolist())
        return chosen

    # ---------------------------------------------------------------- rings
    sizes = [5, 8, 12, 20, 30, 50]
    identifiers = ["none", "device", "ip24", "email"]

    def inject_ring(k, size, ids, camouflage, templated, attack, slow=False):
        members = b.new_reviewers(size)
        targets = rng.choice(n_est, size=int(rng.integers(3, 9)), replace=False)
        t0 = rng.uniform(event_lo, event_hi - 200 * DAY)
        starts = t0 + np.cumsum(rng.uniform(5, 40, len(targets))) * DAY
        spread = rng.uniform(20.0, 60.0) if slow else rng.uniform(0.5, 6.0)
        aged = rng.random() < 0.3
        account = t0 - (rng.uniform(365, 1000, size) if aged else rng.uniform(0, 60, size)) * DAY
        lang = "fr" if rng.random() < 0.3 else "en"
        tone = "neg" if attack else "pos"
        template = {int(e): [texts.one(lang, tone, 1) for _ in range(4)] for e in targets}
        devices, emails = b.fresh(max(1, size // 6)), b.fresh(max(1, size // 8))
        nets = b.fresh(2)
        rows: list[int] = []
        for m_i, m in enumerate(members.tolist()):
            hit = rng.random(len(targets)) < 0.8
            if hit.sum() < 2:
                hit[rng.choice(len(targets), 2, replace=False)] = True
            own_email, own_device = b.fresh(2)
            email = int(emails[m_i % len(emails)]) if ids == "email" else int(own_email)
            device = int(devices[m_i % len(devices)]) if ids == "device" else int(own_device)
            ip24 = int(nets[m_i % 2]) if ids == "ip24" else b.net()
            for e, start in zip(targets[hit].tolist(), starts[hit].tolist(), strict=True):
                text = (
                    _spin(rng, template[e], texts, lang, tone)
                    if templated
                    else texts.one(lang, tone, int(rng.integers(2, 5)))
                )
                rows.append(
                    b.add_review(
                        "ring",
                        reviewer=m,
                        establishment=e,
                        rating=1.0 if attack else 5.0,
                        created_at=start + rng.uniform(0, spread) * DAY,
                        account_created_at=account[m_i],
                        verified_stay=0,
                        email=email,
                        device=device,
                        ip=int(b.fresh()[0]),
                        ip24=ip24,
                        text=text,
                        name=_person_name(rng, lang),
                    )
                )
            if camouflage:
                k_camouflage = min(len(popular), int(rng.integers(3, 13)))
                for e in rng.choice(popular, size=k_camouflage, replace=False).tolist():
                    r_ = b.rating_at(e)
                    rows.append(
                        b.add_review(
                            "ring",
                            reviewer=m,
                            establishment=e,
                            rating=r_,
                            created_at=t0 + rng.uniform(-300, 200) * DAY,
                            account_created_at=account[m_i],
                            verified_stay=int(rng.random() < 0.3),
                            email=email,
                            device=device,
                            ip=int(b.fresh()[0]),
                            ip24=ip24,
                            text=texts.one(
                                lang, str(_tone(np.array([r_]))[0]), int(rng.integers(2, 5))
                            ),
                        )
                    )
        variant = {
            "size": size,
            "identifiers": ids,
            "camouflage": camouflage,
            "text": "templated" if templated else "diverse",
            "attack": attack,
            "spread_days": round(spread, 2),
            "aged_accounts": aged,
            "slow": slow,
        }
        cases.append(
            InjectedCase(
                "ring", k, np.array(rows), members, np.empty(0, np.int64), targets, variant
            )
        )

    for k in range(n_rings):
        ids = identifiers[k % len(identifiers)] if k % 3 else "none"
        inject_ring(
            k,
            sizes[k % len(sizes)],
            ids,
            camouflage=k % 2 == 0 or ids == "none",
            templated=k % 4 in (1, 2),
            attack=k % 3 == 1,
        )

    # ---------------------------------------------------------- extortion
    def extortion(
        kind: str, case_id: int, guest: dict, e: int, when: float, method: str
    ) -> tuple[int, int]:
        lang = guest["lang"]
        partner = int(bg.est_partner[e])
        channel = rng.choice(
            ["email", "platform_message", "social", "phone", "in_person"],
            p=[0.35, 0.2, 0.15, 0.2, 0.1],
        )
        if channel in ("phone", "in_person"):
            message = "" if rng.random() < 0.2 else str(rng.choice(_PARAPHRASES[lang]))
        else:
            message = str(rng.choice(_THREATS[lang]))
        report = {
            "establishment": e,
            "received_at": when,
            "owner": e,
            "partner": partner,
            "message_text": message,
        }
        booking = int(b.fresh()[0])  # this stay's booking reference
        if method == "email":
            report["email"] = guest["email"]
        elif method == "booking_ref":
            report["booking_ref"] = booking
        elif method == "handle":
            report["handle"] = guest["reviewer"]
        if method == "name" or rng.random() < 0.5:
            report["name"] = _name_variant(rng, guest["name"])
        rep = b.add_report(**report)
        after = rng.random() < 0.8
        created = when + (rng.uniform(0.3, 25) if after else -rng.uniform(0.1, 2.9)) * DAY
        text = texts.one(lang, "neg", int(rng.integers(2, 5)))
        if rng.random() < 0.15:
            text += " " + str(rng.choice(_REVIEW_THREAT_LINES[lang]))
        row = b.add_review(
            kind,
            reviewer=guest["reviewer"],
            establishment=e,
            rating=float(rng.choice([1.0, 2.0], p=[0.7, 0.3])),
            created_at=created,
            account_created_at=guest["account"],
            verified_stay=1,
            email=guest["email"],
            device=guest["device"],
            ip=guest["ip"],
            ip24=guest["net"],
            text=text,
            booking_ref=booking,
            name=_name_variant(rng, guest["name"]) if method == "name" else guest["name"],
        )
        return rep, row

    def new_guest(t: float) -> dict:
        lang = "fr" if rng.random() < 0.4 else "en"
        reviewer_code = int(b.new_reviewers(1)[0])
        ids = b.fresh(3)
        return {
            "lang": lang,
            "reviewer": reviewer_code,
            "email": int(ids[0]),
            "device": int(ids[1]),
            "ip": int(ids[2]),
            "net": b.net(),
            "account": t - rng.exponential(400) * DAY,
            "name": _person_name(rng, lang),
        }

    methods = ["email", "booking_ref", "handle", "name"]
    ext_est = pick_establishments(n_extortions, busy)
    for k in range(n_extortions):
        when = rng.uniform(event_lo, event_hi)
        guest = new_guest(when)
        method = methods[k % 4]
        rep, row = extortion("extortion", k, guest, int(ext_est[k]), when, method)
        cases.append(
            InjectedCase(
                "extortion",
                k,
                np.array([row]),
                np.array([guest["reviewer"]]),
                np.array([rep]),
                np.array([ext_est[k]]),
                {
                    "method": method,
                    "language": guest["lang"],
                    "review_before_report": bool(b.rows["created_at"][-1] < when),
                },
            )
        )
    for k in range(n_serial):
        when = rng.uniform(event_lo, event_hi - 400 * DAY)
        guest = new_guest(when)
        count = int(rng.integers(2, 5))
        free = np.array([e for e in busy.tolist() if e not in used_est])
        both = [int(rng.choice(free[bg.est_partner[free] == p])) for p in (0, 1)]
        rest = free[~np.isin(free, both)]
        targets = both + [int(e) for e in rng.choice(rest, size=count - 2, replace=False)]
        used_est.update(targets)
        by_email = rng.random() < 0.6
        reps, rows = [], []
        for j, e in enumerate(targets):
            method = "email" if by_email else "name"
            rep, row = extortion(
                "serial_extortion", k, guest, e, when + j * rng.uniform(20, 120) * DAY, method
            )
            if not by_email:
                b.reports["name"][rep] = guest["name"]  # same name in every report
            reps.append(rep)
            rows.append(row)
        cases.append(
            InjectedCase(
                "serial_extortion",
                k,
                np.array(rows),
                np.array([guest["reviewer"]]),
                np.array(reps),
                np.array(targets),
                {
                    "identity": "email" if by_email else "name",
                    "language": guest["lang"],
                    "partners": len({int(bg.est_partner[e]) for e in targets}),
                },
            )
        )

    # ------------------------------------------------------------ bombing
    bomb_est = pick_establishments(n_bombings, busy)
    for k in range(n_bombings):
        e = int(bomb_est[k])
        crew = int(rng.integers(15, 61))
        t0 = rng.uniform(event_lo, event_hi)
        duration = rng.uniform(0.5, 2.5)
        infra = k % 10 < 7
        templated = k % 10 in (0, 2, 4, 5, 7, 8)
        lang = "fr" if rng.random() < 0.3 else "en"
        template = [texts.one(lang, "neg", 1) for _ in range(4)]
        devices, nets = b.fresh(int(rng.integers(2, 6))), b.fresh(2)
        members = b.new_reviewers(crew)
        rows = []
        for i, m in enumerate(members.tolist()):
            t = t0 + rng.uniform(0, duration) * DAY
            own = b.fresh(3)
            rows.append(
                b.add_review(
                    "bombing",
                    reviewer=m,
                    establishment=e,
                    rating=float(rng.choice([1.0, 2.0], p=[0.85, 0.15])),
                    created_at=t,
                    account_created_at=t - rng.uniform(0, 5) * DAY,
                    verified_stay=0,
                    email=int(own[0]),
                    device=int(devices[i % len(devices)]) if infra else int(own[1]),
                    ip=int(own[2]),
                    ip24=int(nets[i % 2]) if infra else b.net(),
                    text=_spin(rng, template, texts, lang, "neg")
                    if templated
                    else texts.one(lang, "neg", int(rng.integers(2, 5))),
                )
            )
        cases.append(
            InjectedCase(
                "bombing",
                k,
                np.array(rows),
                members,
                np.empty(0, np.int64),
                np.array([e]),
                {
                    "crew": crew,
                    "shared_infrastructure": infra,
                    "text": "templated" if templated else "diverse",
                },
            )
        )

    # ---------------------------------------------------- organic outrage
    organic_est = pick_establishments(n_organic, busy)
    for k in range(n_organic):
        e = int(organic_est[k])
        size = int(rng.integers(15, 61))
        t0 = rng.uniform(event_lo, event_hi)
        duration = rng.uniform(1.0, 6.0)
        incident = int(rng.integers(len(_INCIDENT["en"])))
        regular = rng.choice(regulars, size=size, replace=False)
        rows, who = [], []
        for i in range(size):
            t = t0 + rng.uniform(0, duration) * DAY
            if rng.random() < 0.15:
                m, account = int(b.new_reviewers(1)[0]), t - rng.uniform(0, 10) * DAY
                email, device, ip = (int(x) for x in b.fresh(3))
                net = b.net()
                lang = "fr" if rng.random() < 0.3 else "en"
            else:
                m = int(regular[i])
                j = int(np.flatnonzero(cols.reviewer == m)[0])
                account, email, device = (
                    float(cols.account_created_at[j]),
                    int(cols.email[j]),
                    int(cols.device[j]),
                )
                ip, net, lang = int(b.fresh()[0]), int(cols.ip24[j]), str(bg.lang_of_reviewer[m])
            if rng.random() < 0.3:  # posted from the venue's wifi
                ip = net = 6_000_000 + e
            text = texts.one(lang, "neg", int(rng.integers(1, 4)))
            text = (
                f"{_INCIDENT[lang][incident]} {text}"
                if rng.random() < 0.5
                else f"{text} {_INCIDENT[lang][incident]}"
            )
            rows.append(
                b.add_review(
                    "organic_outrage",
                    reviewer=m,
                    establishment=e,
                    rating=float(rng.choice([1.0, 2.0], p=[0.6, 0.4])),
                    created_at=t,
                    account_created_at=account,
                    verified_stay=int(rng.random() < 0.75),
                    email=email,
                    device=device,
                    ip=ip,
                    ip24=net,
                    text=text,
                    booking_ref=int(b.fresh()[0]),
                )
            )
            who.append(m)
        cases.append(
            InjectedCase(
                "organic_outrage",
                k,
                np.array(rows),
                np.array(who),
                np.empty(0, np.int64),
                np.array([e]),
                {"size": size},
            )
        )

    # ------------------------------------- honest negatives, false reports
    # Honest critics review establishments without injected threats, so that a
    # false report never shares its owner with a true one.
    quiet = np.array([e for e in range(n_est) if e not in used_est])
    honest_rows: list[tuple[int, int, str]] = []
    for k in range(n_honest):
        m = int(rng.choice(regulars))
        j = int(np.flatnonzero(cols.reviewer == m)[0])
        e = int(rng.choice(quiet))
        lang = str(bg.lang_of_reviewer[m])
        t = rng.uniform(event_lo, event_hi)
        text = " ".join(
            [texts.one(lang, "neg", int(rng.integers(1, 3))), texts.one(lang, "refund", 1)]
        )
        booking = int(b.fresh()[0])
        row = b.add_review(
            "honest_negative",
            reviewer=m,
            establishment=e,
            rating=float(rng.choice([1.0, 2.0])),
            created_at=t,
            account_created_at=float(cols.account_created_at[j]),
            verified_stay=1,
            email=int(cols.email[j]),
            device=int(cols.device[j]),
            ip=int(b.fresh()[0]),
            ip24=int(cols.ip24[j]),
            text=text,
            booking_ref=booking,
            name=bg.names[m],
        )
        honest_rows.append((row, m, lang))
        cases.append(
            InjectedCase(
                "honest_negative",
                k,
                np.array([row]),
                np.array([m]),
                np.empty(0, np.int64),
                np.array([e]),
                {"language": lang},
            )
        )
    # One false report per owner, so each owner's record is the one drawn here.
    false_targets, seen = [], set()
    for h in rng.permutation(len(honest_rows)).tolist():
        e = int(b.rows["establishment"][honest_rows[h][0] - b.n0])
        if e not in seen and len(false_targets) < n_false_reports:
            seen.add(e)
            false_targets.append(h)
    for k, h in enumerate(false_targets):
        row, m, lang = honest_rows[h]
        i = row - b.n0
        e = int(b.rows["establishment"][i])
        t = float(b.rows["created_at"][i])
        low = k % 10 < 7
        preemptive = low and k % 5 == 0
        if low:
            owner_confirmed[e], owner_dismissed[e] = (
                int(rng.integers(0, 2)),
                int(rng.integers(3, 9)),
            )
        else:
            owner_confirmed[e], owner_dismissed[e] = int(rng.integers(0, 4)), 0
        when = t - rng.uniform(1, 10) * DAY if preemptive else t + rng.uniform(0.2, 6) * DAY
        method = methods[k % 3]
        report = {
            "establishment": e,
            "received_at": when,
            "owner": e,
            "partner": int(bg.est_partner[e]),
            "name": bg.names[m],
            "message_text": str(rng.choice(_FALSE_REPORT_TEXT[lang])),
        }
        if method == "email":
            report["email"] = int(b.rows["email"][i])
        elif method == "booking_ref":
            report["booking_ref"] = int(b.rows["booking_ref"][i])
        else:
            report["handle"] = m
        rep = b.add_report(**report)
        cases.append(
            InjectedCase(
                "false_report",
                k,
                np.array([row]),
                np.array([m]),
                np.array([rep]),
                np.array([e]),
                {"low_credibility_owner": low, "preemptive": preemptive, "method": method},
            )
        )

    # Stress case, reported apart: rings that spread each target over 20-60
    # days, with no shared identifier, camouflage and their own words.
    for k in range(n_slow_rings):
        inject_ring(n_rings + k, (8, 20)[k % 2], "none", True, False, False, slow=True)

    reviews, guests, reports, kind = b.build()
    return Scenario(
        reviews=reviews,
        guests=guests,
        reports=reports,
        owner_confirmed=owner_confirmed,
        owner_dismissed=owner_dismissed,
        row_kind=kind,
        cases=cases,
        n_background=b.n0,
    )


def case_rows(cases: Sequence[InjectedCase]) -> np.ndarray:
    """All review rows of ``cases``, sorted and unique."""
    if not cases:
        return np.empty(0, np.int64)
    return np.unique(np.concatenate([c.rows for c in cases]))


# --------------------------------------------------------------------------- #
# Live attacks: a timed plan of attack reviews for a replay through the API


@dataclass
class LiveReview:
    """One review of a live attack, at ``at`` seconds after the replay starts.

    Identifier fields are codes: reviews that share a code share that
    identifier (``ip`` within the ``ip24`` network code); ``None`` means "the
    reviewer's own" (established members keep their usual identifiers).
    """

    member: int  # index of the author among the attack's members
    establishment: int  # index into the replay's establishments
    at: float
    rating: int
    lang: str
    text: str
    account_age_days: float | None  # None: an established account (the replay picks one)
    email: int | None
    device: int | None
    ip: int | None
    ip24: int | None
    booking: bool  # a verified stay (the replay gives it a booking reference)
    attack: bool = True  # False: a camouflage review written elsewhere


@dataclass
class LiveAttack:
    """One seeded attack instance with its ground truth."""

    kind: str
    instance: int
    expected_case: str | None  # sock_puppet_ring | review_bombing | extortion | None (never held)
    variant: dict[str, object]
    reviews: list[LiveReview]
    threat: dict[str, object] | None = None  # a threat report filed before the review

    @property
    def members(self) -> int:
        return len({r.member for r in self.reviews})


LIVE_KINDS = (
    "ring_shared_identifiers",
    "ring_lockstep",
    "ring_camouflaged",
    "bombing",
    "organic_outrage",
    "extortion_report",
    "extortion_text",
    "bombing_aged_accounts",
    "bombing_aged_proxies",
    "organic_outrage_shared_network",
    "promotion",
    "organic_enthusiasm",
)
#: Kinds aimed at one establishment of their own.
BURST_KINDS = ("bombing", "organic_outrage", "bombing_aged_accounts", "bombing_aged_proxies",
               "organic_outrage_shared_network", "promotion", "organic_enthusiasm")


def live_attacks(
    n_establishments: int,
    *,
    duration_s: float,
    instances: int = 3,
    kinds: Sequence[str] = LIVE_KINDS,
    random_state: int = 0,
) -> list[LiveAttack]:
    """Seeded attacks of each kind, timed within a replay of ``duration_s`` seconds.

    Each of ``instances`` per kind has its own size, speed, text reuse, rating,
    account ages and identifiers. Burst-like attacks (bombing, organic outrage)
    get an establishment of their own; rings pick targets among the rest.
    ``bombing_aged_accounts`` is a mimicry bombing: old accounts with booking
    references and their own words, whose only tell is one or two /24 networks
    and no history on the platform; ``bombing_aged_proxies`` the same crew
    behind residential proxies (a network each), with no tell but the burst
    itself. ``organic_outrage_shared_network`` is its honest look-alike: real,
    established guests (a tour group, an office party) complaining about the
    same incident from one or two networks. ``promotion`` is the bombing's mirror:
    a crew praising one establishment (bought reviews; new accounts without
    stays, or in one instance in three aged accounts with booking references),
    and ``organic_enthusiasm`` its honest look-alike, established guests
    praising one novelty in their own words.

    Returns
    -------
    attacks : list of LiveAttack, reviews in time order within each.
    """
    rng = np.random.default_rng(random_state)
    texts = _Texts(rng, 200)
    codes = iter(range(1, 10**9))

    def fresh() -> int:
        return next(codes)

    order = rng.permutation(n_establishments)
    n_burst = instances * sum(k in BURST_KINDS for k in kinds)
    burst_pool, ring_pool = order[:n_burst].tolist(), order[n_burst:]
    if len(ring_pool) < 6:
        raise ValueError("too few establishments for the requested attacks")

    def window(span: float) -> float:
        latest = max(0.05 * duration_s, 0.8 * duration_s - span)
        return float(rng.uniform(0.05 * duration_s, latest))

    def lang() -> str:
        return "fr" if rng.random() < 0.35 else "en"

    def own(age: float | None, booking: bool) -> dict:
        net = fresh()
        return {"account_age_days": age, "email": fresh(), "device": fresh(), "ip": fresh(),
                "ip24": net, "booking": booking}

    attacks: list[LiveAttack] = []

    def ring(kind: str, k: int) -> LiveAttack:
        size = int(rng.integers(5, 13))
        targets = rng.choice(ring_pool, size=int(rng.integers(3, 6)), replace=False).tolist()
        span = float(rng.uniform(0.15, 0.4) * duration_s)
        start = window(span)
        promote = k % 2 == 0
        rating_of = (lambda: 5) if promote else (lambda: int(rng.choice([1, 2], p=[0.8, 0.2])))
        tone = "pos" if promote else "neg"
        language = lang()
        templated = kind != "ring_shared_identifiers" or k % 2 == 1
        template = [texts.one(language, tone, 1) for _ in range(3)]
        shared = {"email": fresh(), "device": fresh(), "ip24": fresh()}
        share = ("device", "ip", "email")[k % 3] if kind == "ring_shared_identifiers" else None
        camouflage = kind == "ring_camouflaged"
        members = []
        for _ in range(size):
            ids = own(float(rng.uniform(3, 90) if k % 3 else rng.uniform(200, 900)), False)
            if share == "device":
                ids["device"] = shared["device"]
            elif share == "email":
                ids["email"] = shared["email"]
            elif share == "ip":
                ids["ip24"] = shared["ip24"]
            elif camouflage and k % 2 == 1:
                ids["ip24"] = shared["ip24"]  # a camouflaged ring behind one network
            members.append(ids)
        reviews: list[LiveReview] = []
        # Lockstep: every member reviews each target within a short window.
        for j, e in enumerate(targets):
            t_target = start + span * j / len(targets)
            burst = float(rng.uniform(0.02, 0.08) * duration_s)
            for m, ids in enumerate(members):
                text = (_spin(rng, template, texts, language, tone) if templated
                        else texts.one(language, tone, int(rng.integers(2, 4))))
                ip = fresh() if share != "ip" else int(rng.integers(1, 4))
                reviews.append(LiveReview(m, int(e), t_target + float(rng.uniform(0, burst)),
                                          rating_of(), language, text, ids["account_age_days"],
                                          ids["email"], ids["device"], ip, ids["ip24"], False))
        if camouflage:
            elsewhere = [e for e in ring_pool.tolist() if e not in targets]
            for m, ids in enumerate(members):
                for _ in range(int(rng.integers(1, 4))):
                    r_ = int(rng.choice([4, 5, 3]))
                    reviews.append(LiveReview(
                        m, int(rng.choice(elsewhere)), float(rng.uniform(start, start + span)),
                        r_, language, texts.one(language, str(_tone(np.array([r_]))[0]),
                                                int(rng.integers(2, 4))),
                        ids["account_age_days"], ids["email"], ids["device"], fresh(),
                        ids["ip24"], bool(rng.random() < 0.3), attack=False))
        reviews.sort(key=lambda r: r.at)
        variant = {"members": size, "targets": len(targets), "span_s": round(span, 1),
                   "rating": "5 (promote)" if promote else "1-2 (attack)",
                   "text": "near-duplicate" if templated else "diverse",
                   "shared_identifier": share or ("ip24" if camouflage and k % 2 else "none"),
                   "account_age_days": "3-90" if k % 3 else "200-900"}
        return LiveAttack(kind, k, "sock_puppet_ring", variant, reviews)

    def burst(kind: str, k: int) -> LiveAttack:
        e = int(burst_pool.pop())
        size = int(rng.integers(12, 41))
        span = float(rng.uniform(0.08, 0.3) * duration_s)
        start = window(span)
        language = lang()
        reviews = []
        if kind == "bombing":
            infra = k % 3 != 2
            templated = k % 2 == 0
            template = [texts.one(language, "neg", 1) for _ in range(3)]
            devices = [fresh() for _ in range(int(rng.integers(2, 5)))]
            nets = [fresh(), fresh()]
            for m in range(size):
                ids = own(float(rng.uniform(0, 5)), False)
                if infra:
                    ids["device"], ids["ip24"] = devices[m % len(devices)], nets[m % 2]
                text = (_spin(rng, template, texts, language, "neg") if templated
                        else texts.one(language, "neg", int(rng.integers(2, 4))))
                reviews.append(LiveReview(m, e, start + float(rng.uniform(0, span)),
                                          int(rng.choice([1, 2], p=[0.85, 0.15])), language,
                                          text, **ids))
            variant = {"crew": size, "span_s": round(span, 1), "account_age_days": "0-5",
                       "shared_infrastructure": infra,
                       "text": "near-duplicate" if templated else "diverse"}
            return LiveAttack(kind, k, "review_bombing", variant, sorted(reviews, key=_at))
        if kind in ("bombing_aged_accounts", "bombing_aged_proxies"):
            proxies = kind == "bombing_aged_proxies"
            nets = [fresh() for _ in range(1 + k % 2)]
            for m in range(size):
                ids = own(float(rng.uniform(400, 2000)), True)
                if not proxies:
                    ids["ip24"] = nets[m % len(nets)]
                reviews.append(LiveReview(m, e, start + float(rng.uniform(0, span)),
                                          int(rng.choice([1, 2], p=[0.7, 0.3])), language,
                                          texts.one(language, "neg", int(rng.integers(2, 4))),
                                          **ids))
            variant = {"crew": size, "span_s": round(span, 1), "account_age_days": "400-2000",
                       "networks_24": size if proxies else len(nets),
                       "booking_refs": "all (fake)", "text": "diverse"}
            return LiveAttack(kind, k, "review_bombing", variant, sorted(reviews, key=_at))
        if kind == "promotion":
            aged = k % 3 == 2
            templated = k % 2 == 0
            template = [texts.one(language, "pos", 1) for _ in range(3)]
            devices = [fresh() for _ in range(int(rng.integers(2, 5)))]
            for m in range(size):
                ids = own(float(rng.uniform(200, 900) if aged else rng.uniform(0, 10)), aged)
                if k % 3 == 1:  # a click farm: a few phones
                    ids["device"] = devices[m % len(devices)]
                text = (_spin(rng, template, texts, language, "pos") if templated
                        else texts.one(language, "pos", int(rng.integers(2, 4))))
                reviews.append(LiveReview(m, e, start + float(rng.uniform(0, span)),
                                          int(rng.choice([5, 4], p=[0.85, 0.15])), language,
                                          text, **ids))
            variant = {"crew": size, "span_s": round(span, 1),
                       "account_age_days": "200-900, booking refs" if aged else "0-10, no stays",
                       "shared_devices": k % 3 == 1,
                       "text": "near-duplicate" if templated else "diverse"}
            return LiveAttack(kind, k, "sock_puppet_ring", variant, sorted(reviews, key=_at))
        if kind == "organic_enthusiasm":
            for m in range(size):
                lg = lang()
                reviews.append(LiveReview(m, e, start + float(rng.uniform(0, span)),
                                          int(rng.choice([5, 4], p=[0.7, 0.3])), lg,
                                          texts.one(lg, "pos", int(rng.integers(1, 3))),
                                          None, None, None, fresh(), None,
                                          bool(rng.random() < 0.8)))
            variant = {"size": size, "span_s": round(span, 1),
                       "accounts": "established, with history", "verified_stays": "~80%",
                       "text": "diverse"}
            return LiveAttack(kind, k, None, variant, sorted(reviews, key=_at))
        # Organic outrage: established customers with verified stays, their own words
        # (on the platform's accounts they already have: no account age of their own).
        incident = int(rng.integers(len(_INCIDENT["en"])))
        group = kind == "organic_outrage_shared_network"
        nets = [fresh() for _ in range(1 + k % 2)]
        # One group in three are first-time reviewers on the platform (accounts of
        # their own, no history): the honest twin of an aged-account bombing.
        first_timers = group and k % 3 == 2
        for m in range(size):
            lg = lang()
            text = texts.one(lg, "neg", int(rng.integers(1, 3)))
            text = f"{_INCIDENT[lg][incident]} {text}" if rng.random() < 0.5 else (
                f"{text} {_INCIDENT[lg][incident]}")
            age = float(rng.uniform(30, 3000)) if first_timers else None
            reviews.append(LiveReview(m, e, start + float(rng.uniform(0, span)),
                                      int(rng.choice([1, 2], p=[0.6, 0.4])), lg, text,
                                      age, fresh() if first_timers else None,
                                      fresh() if first_timers else None, fresh(),
                                      nets[m % len(nets)] if group else None,
                                      bool(rng.random() < 0.8)))
        variant = {"size": size, "span_s": round(span, 1),
                   "accounts": ("first-time reviewers" if first_timers
                                else "established, with history"),
                   "verified_stays": "~80%", "text": "diverse + one incident"}
        if group:
            variant["networks_24"] = len(nets)
        return LiveAttack(kind, k, None, variant, sorted(reviews, key=_at))

    def extortion(kind: str, k: int) -> LiveAttack:
        e = int(rng.choice(ring_pool))
        language = ("en", "fr")[k % 2]  # both languages, whatever the instance count
        ids = own(float(rng.uniform(60, 1500)), True)
        at = window(30.0)
        text = texts.one(language, "neg", int(rng.integers(2, 4)))
        threat = None
        if kind == "extortion_report":
            method = ("email", "booking_ref", "reviewer_handle", "name")[k % 4]
            channel = ("email", "phone", "platform_message", "social")[k % 4]
            message = str(rng.choice(_PARAPHRASES[language] if channel == "phone"
                                     else _THREATS[language]))
            threat = {"at": at, "method": method, "channel": channel, "message": message,
                      "demand": str(rng.choice(["refund", "free_service", "upgrade"])),
                      "name": _person_name(rng, language)}
            at += float(rng.uniform(5, 30))
            if rng.random() < 0.2:
                text += " " + str(rng.choice(_REVIEW_THREAT_LINES[language]))
            variant = {"identified_by": method, "channel": channel, "language": language}
        else:
            text = f"{text} {rng.choice(_THREATS[language])}"
            variant = {"language": language, "threat_in_review": True}
        review = LiveReview(0, e, at, int(rng.choice([1, 2], p=[0.7, 0.3])), language, text,
                            **ids)
        return LiveAttack(kind, k, "extortion", variant, [review], threat)

    builders = {"ring_shared_identifiers": ring, "ring_lockstep": ring, "ring_camouflaged": ring,
                **{kind: burst for kind in BURST_KINDS},
                "extortion_report": extortion, "extortion_text": extortion}
    for kind in kinds:
        for k in range(instances):
            attacks.append(builders[kind](kind, k))
    return attacks


def _at(review: LiveReview) -> float:
    return review.at
