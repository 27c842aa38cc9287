"""Extortion language in reviews' own words (issue 13): recall and false cues on texts
the detector was not written against.

    .venv/bin/python -m bench.cues --json
    .venv/bin/python -m bench.cues --show-misses

``bench/cue_texts.json`` holds labelled review texts in English and French,
each set written by a different helper given only the task (blackmail tied to
the review in varied forms, and hard honest anger about refunds, stars,
photos, updating a review, the business trying to buy the review) and none of
the detector's code or data:

- ``heldout8``, ``heldout9``: validation (their misses were read);
- ``heldout10``: the latest round's test set, measured once at the end of it;
- ``heldout11``: written after that round, a second test of the same version;
- ``heldout12``: the test of the round after that (measured once);
- ``honest_stress``: honest reviews only, each with money and publicity side by
  side (the commonest honest complaint that looks like a bargain), written to
  be hard; that round's validation for false cues.

Each round is chosen on the sets that exist, then measured once on a set
written afterwards, which joins the others. Sets of earlier rounds (heldout to
heldout7, and ``design``, which the clause-level pass was built against) then
joined the learned reading's training texts (``ml/data/threat_texts.json``);
their one-time figures are in bench/RESULTS.md (issue 13). The training texts
are disjoint from the sets here.

``--speed N`` also times the cue search over N synthetic reviews (the API
benchmarks' texts and the scenarios' negative ones, half each): what every
review scored pays, the memo of seen texts aside.

A text counts as flagged when its strongest cue reaches ``--min-strength``
(0.8 by default: a review-as-leverage cue or stronger, what opens a case in
scoring; ``ml.extortion.cue_strength``). Printed per set and language: recall
over the extortion texts, false cues over the honest ones, and precision.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import common
from ml.extortion import cue_strength
from ml.text import extortion_cues

TEXTS = Path(__file__).resolve().parent / "cue_texts.json"


def evaluate(items: dict[str, list[dict]], min_strength: float) -> dict:
    """Recall, false cues and precision of ``items`` ({"extortion": [...], "honest": [...]},
    each item {"lang", "text"}), overall and per language."""
    out: dict = {}
    misses: dict[str, list[str]] = {"extortion": [], "honest": []}
    rows = []
    for label in ("extortion", "honest"):
        texts = [item["text"] for item in items.get(label, [])]
        strength = cue_strength(extortion_cues(texts))
        for item, s in zip(items.get(label, []), strength.tolist(), strict=True):
            flagged = s >= min_strength
            rows.append((item["lang"], label, flagged))
            if flagged != (label == "extortion"):
                misses[label].append(item["text"])
    for lang in ("all", "en", "fr"):
        mine = [r for r in rows if lang == "all" or r[0] == lang]
        ext = [r for r in mine if r[1] == "extortion"]
        hon = [r for r in mine if r[1] == "honest"]
        caught = sum(r[2] for r in ext)
        false = sum(r[2] for r in hon)
        out[lang] = {
            "extortion": len(ext), "caught": caught,
            "recall": round(caught / len(ext), 3) if ext else None,
            "honest": len(hon), "false_cues": false,
            "false_cue_rate": round(false / len(hon), 3) if hon else None,
            "precision": round(caught / (caught + false), 3) if caught + false else None,
        }
    return {"figures": out, "missed_extortion": misses["extortion"],
            "flagged_honest": misses["honest"]}


def speed(n: int) -> dict:
    """Microseconds of ``ml.text._cues_of`` per synthetic review (the model trained first)."""
    import numpy as np

    import ml.text as text_module
    from ml.scenarios import _Texts

    items = common.make_reviews(n // 2, common.make_establishments(50), common.make_reviewers(2000),
                                prefix="cues")
    texts = [f"{i['title']}\n{i['text']}" for i in items]
    rng = np.random.default_rng(0)
    sentences = _Texts(rng, 200)
    texts += [sentences.one(lang, "neg", int(rng.integers(1, 5)))
              for lang in ("en", "fr") for _ in range(n // 4)]
    try:
        from ml.threat_text import threat_model
    except ImportError:  # a revision without the learned reading
        pass
    else:
        threat_model()  # trained before the clock starts
    started = time.perf_counter()
    for text in texts:
        text_module._cues_of(text)
    seconds = time.perf_counter() - started
    return {"texts": len(texts), "us_per_text": round(1e6 * seconds / len(texts), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=Path, default=TEXTS)
    parser.add_argument("--min-strength", type=float, default=0.8)
    parser.add_argument("--speed", type=int, default=0, metavar="N",
                        help="also time the cue search over N synthetic reviews")
    parser.add_argument("--show-misses", action="store_true",
                        help="list the missed extortion texts and the flagged honest ones")
    parser.add_argument("--json", type=Path, nargs="?", const=None, default=None,
                        help="the result is printed as JSON; with a path, also written there")
    args = parser.parse_args(argv)
    data = json.loads(args.texts.read_text(encoding="utf-8"))
    started = time.perf_counter()
    names = [name for name in data if name.startswith("heldout") or name == "honest_stress"]
    sets = {name: evaluate(data[name], args.min_strength) for name in names}
    seconds = time.perf_counter() - started
    result = {
        "benchmark": "extortion cues in reviews' own words (issue 13)",
        "min_strength": args.min_strength, "seconds": round(seconds, 3),
        "sets": {name: (s if args.show_misses else s["figures"]) for name, s in sets.items()},
    }
    if args.speed:
        result["speed"] = speed(args.speed)
    common.dump(result, args.json)
    for name, s in sets.items():
        f = s["figures"]
        print(f"{name}: recall {f['all']['recall']} (en {f['en']['recall']}, fr {f['fr']['recall']}), "
              f"false cues {f['all']['false_cues']}/{f['all']['honest']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
