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
of its holds at the per-partner thresholds (target precision 0.4), chosen by
two rules in the same replay (the weights, switches and queue do not depend on
the thresholds): the old one (lowest threshold whose weighted precision on the
training decisions reaches the target, ``confidence=None``) and the new one
(its lower confidence bound reaches it, partners shrunk towards all partners;
when nothing is supported, "current": the threshold holding the weighted share
that the threshold in use held). "best possible" is the recall of the deployed
weights at the lowest single threshold reaching the target on the test set
itself (an oracle, for scale).

    .venv/bin/python -m bench.calibration --seed 1 --confidence 0.95
    .venv/bin/python -m bench.calibration --cumulative-ipw

By default an audit's weight is the open reviews of its week over that week's
audits, as recorded; summed over weeks that counts the undecided population
once per week (80 times after 16,000 decisions) against the queue decisions
once. ``--cumulative-ipw`` weighs it by 1 / its chance of an audit in any week
so far instead.
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
from ml.calibration import (
    CalibrationModel,
    fit_calibration,
    precision_at_recall,
    threshold_for_precision,
)

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
    oracle = threshold_for_precision(y, p, TARGET_PRECISION, min_holds=1)
    return {
        f"test_precision_at_recall_{RECALL:g}": round(precision_at_recall(y, p, RECALL), 4),
        "test_ap": round(float(average_precision_score(y, p)), 4),
        **_hold_figures(model, X, y, partner),
        "test_best_recall_at_target": round(float(y[p >= oracle].sum() / y.sum()), 4),
    }


def _hold_figures(model: CalibrationModel, X, y, partner) -> dict:
    held = model.hold(X, partner)
    return {
        "test_holds": int(held.sum()),
        "test_hold_precision": round(float(y[held].mean()), 4) if held.any() else None,
        "test_hold_recall": round(float(y[held].sum() / y.sum()), 4),
    }


def _thresholds(model: CalibrationModel) -> dict:
    return {
        "partner_thresholds": {k: round(v, 4) for k, v in model.partner_thresholds.items()},
        "global_threshold": round(model.global_threshold, 4)
        if np.isfinite(model.global_threshold)
        else None,
    }


def replay(
    seed: int = 0,
    *,
    ipw: bool = True,
    cumulative_ipw: bool = False,
    confidence: float = 0.9,
    partner_prior_strength: float = 20.0,
) -> dict:
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
    audited = np.zeros(len(y), dtype=bool)
    audit_rate = 0.0  # sum over weeks of an open review's chance of an audit

    deployed = _initial_model()
    # The same weights with thresholds chosen by the old rule (point estimate).
    deployed_old = deployed
    rows = [
        {
            "decisions": 0,
            "model": deployed.version,
            "switched": None,
            **_test_figures(deployed, X[test], y[test], partner[test]),
            "old_rule": _hold_figures(deployed_old, X[test], y[test], partner[test]),
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
            audit_rate += len(audits) / len(rest)
            audited[audits] = True
            done += WEEKLY
        if ipw and cumulative_ipw:
            # An audit stands for 1 / (its chance of being audited in some week
            # so far), not for the open reviews of its own week: summed over
            # weeks, the latter count the undecided population once per week.
            weight[audited] = 1.0 / min(1.0, audit_rate)
        rows_d = np.flatnonzero(decided)
        common = dict(
            components=COMPONENTS,
            current_weights=deployed.weights,
            current_bias=deployed.bias,
            target_precision=TARGET_PRECISION,
            min_partner_decisions=300,
            random_state=seed,
            population_weight=weight[rows_d],
        )
        candidate = fit_calibration(
            X[rows_d],
            y[rows_d],
            partner[rows_d],
            current_threshold=deployed.global_threshold,
            confidence=confidence,
            partner_prior_strength=partner_prior_strength,
            **common,
        )
        candidate_old = fit_calibration(
            X[rows_d],
            y[rows_d],
            partner[rows_d],
            current_threshold=deployed_old.global_threshold,
            confidence=None,
            **common,
        )
        assert candidate_old.weights == candidate.weights
        switched = candidate.not_worse_than()
        if switched:
            deployed, deployed_old = candidate, candidate_old
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
                **_thresholds(deployed),
                "threshold_support": deployed.threshold_support,
                "old_rule": {
                    **_hold_figures(deployed_old, X[test], y[test], partner[test]),
                    **_thresholds(deployed_old),
                },
            }
        )
    return {
        "seed": seed,
        "inverse_probability_weights": ipw,
        "cumulative_ipw": cumulative_ipw,
        "confidence": confidence,
        "partner_prior_strength": partner_prior_strength,
        "test_reviews": int(test.sum()),
        "test_spam_share": round(float(y[test].mean()), 4),
        "seconds": round(time.perf_counter() - started, 2),
        "steps": rows,
    }


def markdown(result: dict) -> str:
    key = f"test_precision_at_recall_{RECALL:g}"
    lines = [
        f"| decisions | switched to the refit | test precision at recall {RECALL:g} | test AP "
        "| test holds, old rule: precision / recall | new rule: precision / recall "
        "| new rule's global threshold (source) | best possible recall at the target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def hold(r: dict) -> str:
        return (
            f"{r['test_hold_precision']} / {r['test_hold_recall']}" if r["test_holds"] else "none"
        )

    for r in result["steps"]:
        switched = {None: "(current weights)", True: "yes", False: "no"}[r["switched"]]
        support = r.get("threshold_support", {}).get("*", {})
        glob = r.get("global_threshold")
        source = f"{glob} ({support['source']})" if support else f"{glob or CURRENT_THRESHOLD}"
        lines.append(
            f"| {r['decisions']} | {switched} | {r[key]:.4f} | {r['test_ap']:.4f} "
            f"| {hold(r['old_rule'])} | {hold(r)} | {source} "
            f"| {r['test_best_recall_at_target']} |"
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
    parser.add_argument(
        "--cumulative-ipw",
        action="store_true",
        help="an audit stands for 1 / its chance of an audit in any week so far "
        "(not the open reviews of its own week)",
    )
    parser.add_argument(
        "--confidence", type=float, default=0.9, help="the new rule's one-sided bound level"
    )
    parser.add_argument(
        "--partner-prior",
        type=float,
        default=20.0,
        help="pseudo-decisions shrinking a partner's precision towards all partners'",
    )
    args = parser.parse_args(argv)
    result = replay(
        args.seed,
        ipw=not args.no_ipw,
        cumulative_ipw=args.cumulative_ipw,
        confidence=args.confidence,
        partner_prior_strength=args.partner_prior,
    )
    print(json.dumps(result) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
