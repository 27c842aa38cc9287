"""Calibration from moderators' decisions (issue 13): a replayed decision log on YelpChi.

    .venv/bin/python -m bench.calibration            # Markdown table
    .venv/bin/python -m bench.calibration --json     # one JSON object

YelpChi's labels play the moderators' decisions. Each review gets five
component scores in [0, 1], standing for the fusion's inputs (directional
ranks of the review prior, the reviewer prior, being a newcomer, the
establishment's mean review prior, the product prior); the "current" fusion
weighs them all 1.0 with bias -3 (a hand-set start, as ``ml.fusion`` is). Three
partners (products by id modulo 3). A seeded 20% of reviewers is never decided:
the test set. Every week the moderators decide 200 reviews of the other 80%:
80% from the top of the queue ranked by the deployed model, 20% at random
(audits). At each checkpoint ``ml.calibration.fit_calibration`` refits on every
decision so far, warm-started from the deployed weights, and the service
switches to the new model only when ``not_worse_than`` says so (its own
held-out decisions). The table reports, on the test set, precision at recall
0.5 and average precision of the deployed model, and the precision and recall
of its holds at the per-partner thresholds (target precision 0.4).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from sklearn.metrics import average_precision_score

from bench.data import load_yelpchi, shuffled
from bench.yelpchi import SHUFFLE_SEED, yelpchi_graph_features
from ml.anomaly import RankAggregator
from ml.calibration import CalibrationModel, fit_calibration, precision_at_recall

COMPONENTS = ("review_prior", "user_prior", "newcomer", "establishment_prior", "product_prior")
_SOURCES = (
    ("review_prior", 1),
    ("user_prior", 1),
    ("reviewer_degree", -1),
    ("review_prior_establishment_mean", 1),
    ("product_prior", 1),
)
CURRENT_WEIGHTS = dict.fromkeys(COMPONENTS, 1.0)
CURRENT_BIAS = -3.0
CURRENT_THRESHOLD = 0.7
TARGET_PRECISION = 0.4
WEEKLY = 200
AUDIT_SHARE = 0.2
CHECKPOINTS = (200, 400, 1000, 2000, 4000, 8000, 16000)
RECALL = 0.5


def components(data) -> np.ndarray:
    """(n, 5) directional ranks in [0, 1] of the component sources (no label used)."""
    features = yelpchi_graph_features(data)
    X = np.column_stack([features.column(name) for name, _ in _SOURCES])
    directions = [d for _, d in _SOURCES]
    return RankAggregator(directions=directions).fit(X).feature_ranks(X)


def _initial_model() -> CalibrationModel:
    return CalibrationModel(
        version="current",
        components=COMPONENTS,
        weights=dict(CURRENT_WEIGHTS),
        bias=CURRENT_BIAS,
        global_threshold=CURRENT_THRESHOLD,
        partner_thresholds={},
        target_precision=TARGET_PRECISION,
        n_train=0,
        heldout={},
        baseline={},
    )


def _test_figures(model: CalibrationModel, X, y, partner) -> dict:
    p = model.probability(X)
    held = model.hold(X, partner)
    return {
        f"test_precision_at_recall_{RECALL:g}": round(precision_at_recall(y, p, RECALL), 4),
        "test_ap": round(float(average_precision_score(y, p)), 4),
        "test_holds": int(held.sum()),
        "test_hold_precision": round(float(y[held].mean()), 4) if held.any() else None,
        "test_hold_recall": round(float(y[held].sum() / y.sum()), 4),
    }


def replay(seed: int = 0, *, ipw: bool = True) -> dict:
    data = shuffled(load_yelpchi(None), SHUFFLE_SEED)
    X = components(data)
    y = data.spam.astype(np.int64)
    partner = (data.product_id % 3).astype(str)
    rng = np.random.default_rng(seed)
    users, group = np.unique(data.user_id, return_inverse=True)
    test = (rng.random(len(users)) < 0.2)[group]
    pool = np.flatnonzero(~test)
    decided = np.zeros(len(y), dtype=bool)
    # Inverse probability of having been decided: an audit stands for the open
    # reviews it was drawn from, a queue decision for itself.
    weight = np.zeros(len(y))

    deployed = _initial_model()
    rows = [
        {
            "decisions": 0,
            "model": deployed.version,
            "switched": None,
            **_test_figures(deployed, X[test], y[test], partner[test]),
        }
    ]
    done = 0
    started = time.perf_counter()
    for checkpoint in CHECKPOINTS:
        while done < checkpoint:
            open_rows = pool[~decided[pool]]
            queue = open_rows[np.argsort(-deployed.probability(X[open_rows]), kind="stable")]
            n_queue = int(WEEKLY * (1 - AUDIT_SHARE))
            picked = queue[:n_queue]
            rest = queue[n_queue:]
            audits = rng.choice(rest, WEEKLY - n_queue, replace=False)
            decided[picked] = decided[audits] = True
            weight[picked] = 1.0
            weight[audits] = len(rest) / len(audits) if ipw else 1.0
            done += WEEKLY
        rows_d = np.flatnonzero(decided)
        candidate = fit_calibration(
            X[rows_d],
            y[rows_d],
            partner[rows_d],
            components=COMPONENTS,
            current_weights=deployed.weights,
            current_bias=deployed.bias,
            current_threshold=deployed.global_threshold,
            target_precision=TARGET_PRECISION,
            min_partner_decisions=300,
            random_state=seed,
            population_weight=weight[rows_d],
        )
        switched = candidate.not_worse_than()
        if switched:
            deployed = candidate
        rows.append(
            {
                "decisions": int(decided.sum()),
                "model": deployed.version,
                "switched": switched,
                "candidate_heldout_ap": candidate.heldout.get("ap"),
                "current_heldout_ap": candidate.baseline.get("ap"),
                **_test_figures(deployed, X[test], y[test], partner[test]),
                "weights": deployed.weights,
                "bias": deployed.bias,
                "partner_thresholds": {
                    k: round(v, 4) for k, v in deployed.partner_thresholds.items()
                },
                "global_threshold": round(deployed.global_threshold, 4)
                if np.isfinite(deployed.global_threshold)
                else None,
            }
        )
    return {
        "seed": seed,
        "inverse_probability_weights": ipw,
        "test_reviews": int(test.sum()),
        "test_spam_share": round(float(y[test].mean()), 4),
        "seconds": round(time.perf_counter() - started, 2),
        "steps": rows,
    }


def markdown(result: dict) -> str:
    key = f"test_precision_at_recall_{RECALL:g}"
    lines = [
        f"| decisions | switched to the refit | test precision at recall {RECALL:g} | test AP "
        "| test holds: precision / recall |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in result["steps"]:
        hold = (
            f"{r['test_hold_precision']} / {r['test_hold_recall']}" if r["test_holds"] else "none"
        )
        switched = {None: "(current weights)", True: "yes", False: "no"}[r["switched"]]
        lines.append(
            f"| {r['decisions']} | {switched} | {r[key]:.4f} | {r['test_ap']:.4f} | {hold} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-ipw",
        action="store_true",
        help="thresholds from the decisions as they are (shows the queue's selection bias)",
    )
    args = parser.parse_args(argv)
    result = replay(args.seed, ipw=not args.no_ipw)
    print(json.dumps(result) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
