"""Injected-scenario benchmark: precision and recall of each case kind on the YelpChi background.

    python -m bench.scenarios --json            # one JSON object on stdout
    python -m bench.scenarios --seeds 0 1 2     # several seeds, one object per seed

The background graph is YelpChi's (env YELPCHI_PATH, default
<repo>/../shared/data/yelpchi/yelpchi.csv.gz); its ratings, dates, accounts,
identifiers and texts are synthetic (see ml/scenarios.py). Attacks and hard
negatives are injected with ground truth, every detector runs once over the
whole batch, and the figures are computed against the truth.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from bench.data import load_yelpchi
from ml.bursts import BurstDetector
from ml.extortion import link_reports_to_reviews, score_extortion, serial_extortionists
from ml.rings import RingDetector
from ml.scenarios import Scenario, case_rows, make_scenario
from ml.text import extortion_cues


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _member_prf(found: np.ndarray, truth: np.ndarray, ignore: np.ndarray) -> dict:
    """Member precision/recall of ``found`` against ``truth``, ``ignore`` left out of both."""
    found, truth = found[~np.isin(found, ignore)], truth[~np.isin(truth, ignore)]
    tp = int(np.isin(found, truth).sum())
    return _prf(tp, len(found) - tp, len(truth) - tp)


def evaluate_rings(sc: Scenario, detector: RingDetector) -> dict:
    truth_cases = sc.cases_of("ring")
    main = [c for c in truth_cases if not c.variant["slow"]]
    slow = [c for c in truth_cases if c.variant["slow"]]

    def members(cases):
        return (
            np.unique(np.concatenate([c.reviewers for c in cases]))
            if cases
            else np.empty(0, np.int64)
        )

    found = (
        np.unique(np.concatenate([r.members for r in detector.rings_]))
        if detector.rings_
        else np.empty(0, np.int64)
    )
    truth, slow_members = members(main), members(slow)
    # Who the false positives are.
    kind_of = {}
    for c in sc.cases:
        for r in c.reviewers.tolist():
            kind_of.setdefault(r, c.kind)
    fp_kinds: dict[str, int] = {}
    for r in found[~np.isin(found, members(truth_cases))].tolist():
        k = kind_of.get(r, "background")
        fp_kinds[k] = fp_kinds.get(k, 0) + 1
    per_ring = []
    for c in truth_cases:
        best, covered = 0.0, 0
        for ring in detector.rings_:
            inter = len(np.intersect1d(ring.members, c.reviewers))
            if inter:
                best = max(best, inter / len(np.union1d(ring.members, c.reviewers)))
                covered += inter
        per_ring.append(
            {
                **c.variant,
                "member_recall": round(covered / len(c.reviewers), 3),
                "best_jaccard": round(best, 3),
            }
        )
    hard = members(
        [c for c in main if c.variant["identifiers"] == "none" and c.variant["camouflage"]]
    )
    return {
        "rings_injected": len(main),
        "rings_found": len(detector.rings_),
        "rings_detected": sum(p["member_recall"] >= 0.5 for p in per_ring if not p["slow"]),
        "member": _member_prf(found, truth, slow_members),
        "member_recall_camouflaged_no_identifiers": round(
            float(np.isin(hard, found).mean()) if len(hard) else 1.0, 4
        ),
        "slow_rings_stress": {
            "rings": len(slow),
            "member_recall": round(float(np.isin(slow_members, found).mean()), 4)
            if len(slow_members)
            else None,
            "member_all_rings": _member_prf(found, members(truth_cases), np.empty(0, np.int64)),
        },
        "false_positive_members_by_kind": fp_kinds,
        "per_ring": per_ring,
    }


def evaluate_extortion(sc: Scenario) -> tuple[dict, dict]:
    links = link_reports_to_reviews(sc.reports, sc.reviews, guests=sc.guests)
    serial = serial_extortionists(sc.reports, links=links, reviews=sc.reviews, guests=sc.guests)
    cues = extortion_cues(sc.reviews.text)
    scores = score_extortion(
        sc.reports,
        sc.reviews,
        links,
        credibility=sc.report_credibility(),
        serial=serial,
        review_cues=cues,
    )
    positive = case_rows(sc.cases_of("extortion") + sc.cases_of("serial_extortion"))
    held = np.flatnonzero(scores.hold)
    tp = int(np.isin(held, positive).sum())
    result = {"reviews": _prf(tp, len(held) - tp, len(positive) - tp)}
    by_method: dict[str, list[int]] = {}
    for c in sc.cases_of("extortion"):
        by_method.setdefault(str(c.variant["method"]), []).append(int(scores.hold[c.rows].all()))
    result["recall_by_identity"] = {k: round(float(np.mean(v)), 4) for k, v in by_method.items()}
    fp_kinds: dict[str, int] = {}
    for k in sc.row_kind[held[~np.isin(held, positive)]].tolist():
        fp_kinds[k] = fp_kinds.get(k, 0) + 1
    result["false_positive_rows_by_kind"] = fp_kinds

    # Serial extortionists: one group per guest, nothing else in it.
    serial_cases = sc.cases_of("serial_extortion")
    report_case = np.full(len(sc.reports), -1)
    for c in serial_cases:
        report_case[c.reports] = c.case_id
    exact = 0
    for c in serial_cases:
        groups = set(serial.group[c.reports].tolist())
        if len(groups) == 1 and -1 not in groups:
            g = groups.pop()
            exact += int(set(report_case[serial.group == g].tolist()) == {c.case_id})
    flagged = np.flatnonzero(serial.group >= 0)
    result["serial"] = {
        "guests_injected": len(serial_cases),
        "guests_grouped_exactly": exact,
        "groups_found": len(np.unique(serial.group[flagged])),
        "reports_in_groups_not_serial": int((report_case[flagged] < 0).sum()),
    }

    # Hard negatives.
    honest = case_rows(sc.cases_of("honest_negative"))
    false_low = [c for c in sc.cases_of("false_report") if c.variant["low_credibility_owner"]]
    false_clean = [c for c in sc.cases_of("false_report") if not c.variant["low_credibility_owner"]]
    hard = {
        "honest_negative_reviews": len(honest),
        "honest_negative_held": int(scores.hold[honest].sum()),
        "honest_negative_with_text_cue": int(sum(bool(cues[r]) for r in honest.tolist())),
        "false_reports_low_credibility_owner": len(false_low),
        "false_reports_low_credibility_owner_held": int(
            sum(scores.hold[c.rows].any() for c in false_low)
        ),
        "false_reports_clean_record_owner": len(false_clean),
        "false_reports_clean_record_owner_held": int(
            sum(scores.hold[c.rows].any() for c in false_clean)
        ),
        "background_reviews_with_text_cue": int(sum(bool(cues[r]) for r in range(sc.n_background))),
    }
    return result, hard


def evaluate_bursts(sc: Scenario, detector: BurstDetector) -> tuple[dict, dict]:
    bombing = [b for b in detector.bursts_ if b.label == "bombing"]
    in_bombing = detector.review_score_ > 0
    detected = 0
    for c in sc.cases_of("bombing"):
        detected += int(in_bombing[c.rows].mean() >= 0.5)
    n_cases = len(sc.cases_of("bombing"))
    # A bombing burst is right when most of its reviews are coordinated: an
    # injected bombing crew, or a sock-puppet ring attacking one of its targets.
    coordinated = np.isin(sc.row_kind, ["bombing", "ring"])
    burst_tp = sum(coordinated[b.reviews].mean() >= 0.5 for b in bombing)
    organic = sc.cases_of("organic_outrage")
    organic_flagged = sum(bool(in_bombing[c.rows].any()) for c in organic)
    organic_seen = sum(bool((detector.review_burst_[c.rows] >= 0).mean() >= 0.5) for c in organic)
    result = {
        "cases": _prf(detected, 0, n_cases - detected),
        "bombing_bursts": len(bombing),
        "bombing_bursts_mostly_coordinated": int(burst_tp),
        "bombing_bursts_mostly_honest": len(bombing) - int(burst_tp),
        "organic_bursts": sum(b.label == "organic" for b in detector.bursts_),
        "suspected_bursts": sum(b.label == "suspected" for b in detector.bursts_),
    }
    suspected = np.zeros(len(in_bombing), dtype=bool)
    for b in detector.bursts_:
        if b.label == "suspected":
            suspected[b.incident] = True
    hard = {
        "organic_outrage_events": len(organic),
        "organic_outrage_flagged_as_bombing": int(organic_flagged),
        "organic_outrage_in_suspected_burst": int(sum(bool(suspected[c.rows].any())
                                                      for c in organic)),
        "organic_outrage_rows_scored_as_bombing": int(in_bombing[case_rows(organic)].sum()),
        "organic_outrage_surfaced_as_organic_burst": int(organic_seen),
    }
    return result, hard


def run(seed: int) -> dict:
    data = load_yelpchi()
    t = time.perf_counter()
    sc = make_scenario(data.user_id, data.product_id, random_state=seed)
    timings = {"make_scenario_s": round(time.perf_counter() - t, 2)}

    t = time.perf_counter()
    rings = RingDetector(random_state=seed).fit(sc.reviews)
    timings["rings_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    bursts = BurstDetector(random_state=seed).fit(sc.reviews)
    timings["bursts_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    extortion, extortion_hard = evaluate_extortion(sc)
    timings["extortion_s"] = round(time.perf_counter() - t, 2)

    ring_result = evaluate_rings(sc, rings)
    burst_result, burst_hard = evaluate_bursts(sc, bursts)
    # Honest negatives and organic outrage must not be swept into rings either.
    ring_rows = rings.review_ring_ >= 0
    return {
        "seed": seed,
        "reviews": len(sc.reviews),
        "background_reviews": sc.n_background,
        "threat_reports": len(sc.reports),
        "rings": ring_result,
        "extortion": extortion,
        "bombing": burst_result,
        "hard_negatives": {
            **extortion_hard,
            **burst_hard,
            "honest_negative_in_rings": int(
                ring_rows[case_rows(sc.cases_of("honest_negative"))].sum()
            ),
            "organic_outrage_in_rings": int(
                ring_rows[case_rows(sc.cases_of("organic_outrage"))].sum()
            ),
        },
        "timings": timings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    results = [run(seed) for seed in args.seeds]
    out = results[0] if len(results) == 1 else {"runs": results}
    if args.json:
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
    else:
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
