"""Batch detection at scale: time and peak memory of each detector on synthetic batches.

    python -m bench.scale                          # 100k, 250k, 500k, 1M reviews
    python -m bench.scale --sizes 1000000 --json   # one size, JSON on stdout

Each size runs in its own process (so one size's memory cannot leak into the
next): a heavy-tailed synthetic graph (reviewers = reviews / 5, establishments
= reviews / 40; 200k reviewers at 1M) with the synthetic columns of
ml/scenarios.py, English and French texts included, plus 20 injected lockstep
rings (20 accounts x 5 targets) and 50 bombing crews (30 accounts), so that every
detector path runs and is checked. Then, one after the other:
rings (ml.rings.RingDetector), bursts (ml.bursts.BurstDetector) and the anomaly
ensemble (ml.features.review_features + ml.anomaly.AnomalyEnsemble). Reported
per detector: wall time (a plain run), and the peak of memory it allocated
(tracemalloc, in a second run: numpy reports its buffers to tracemalloc);
per size: the process's peak RSS (getrusage), data generation included.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

DEFAULT_SIZES = (100_000, 250_000, 500_000, 1_000_000)
MIB = 1024 * 1024


RINGS, RING_SIZE, RING_TARGETS = 20, 20, 5
BOMBINGS, CREW = 50, 30


def _inject(cols, rng: np.random.Generator):
    """Append 20 lockstep rings (20 accounts x 5 targets, copied texts, shared
    device) and 50 bombing crews (30 new one-shot accounts, one night) so that
    every detector path runs at scale; returns the columns and the truth."""
    from ml.features import ReviewColumns

    day = 86_400.0
    n_est = int(cols.establishment.max()) + 1
    first_reviewer = int(cols.reviewer.max()) + 1
    t_lo, t_hi = float(np.nanmin(cols.created_at)), float(np.nanmax(cols.created_at))
    parts = []
    ring_members = []
    for k in range(RINGS):
        members = first_reviewer + k * RING_SIZE + np.arange(RING_SIZE)
        targets = rng.choice(n_est, RING_TARGETS, replace=False)
        start = rng.uniform(t_lo + 400 * day, t_hi - 400 * day) + np.arange(RING_TARGETS) * 20 * day
        reviewer = np.repeat(members, RING_TARGETS)
        when = np.tile(start, RING_SIZE) + rng.uniform(0, 2 * day, len(reviewer))
        template = (
            f"Ring {k} loved it: spotless rooms, friendly staff and the best breakfast in town, "
            "we will be back with the whole family next summer without a doubt."
        )
        parts.append((reviewer, np.tile(targets, RING_SIZE), np.full(len(reviewer), 5.0), when,
                      when - 10 * day, np.full(len(reviewer), 7_000_000 + k),
                      [template + f" ({i % 7})" for i in range(len(reviewer))]))  # fmt: skip
        ring_members.append(members)
    first_crew = first_reviewer + RINGS * RING_SIZE
    bombed = rng.choice(n_est, BOMBINGS, replace=False)
    for k, e in enumerate(bombed.tolist()):
        crew = first_crew + k * CREW + np.arange(CREW)
        when = rng.uniform(t_lo + 400 * day, t_hi) + rng.uniform(0, day, CREW)
        parts.append((crew, np.full(CREW, e), np.ones(CREW), when, when - day,
                      np.full(CREW, 8_000_000 + k % 5),
                      [f"Terrible place number {k}, avoid at all costs, rude staff."] * CREW))  # fmt: skip
    n0 = len(cols)

    def cat(values, extra):
        return np.concatenate([np.asarray(values)] + [np.asarray(x) for x in extra])

    out = ReviewColumns(
        reviewer=cat(cols.reviewer, [p[0] for p in parts]).astype(np.int64),
        establishment=cat(cols.establishment, [p[1] for p in parts]).astype(np.int64),
        rating=cat(cols.rating, [p[2] for p in parts]),
        created_at=cat(cols.created_at, [p[3] for p in parts]),
        account_created_at=cat(cols.account_created_at, [p[4] for p in parts]),
        verified_stay=np.concatenate(
            (cols.verified_stay, np.zeros(sum(len(p[0]) for p in parts), bool))
        ),
        email=cat(cols.email, [np.full(len(p[0]), -1) for p in parts]),
        device=cat(cols.device, [p[5] for p in parts]),
        ip=cat(cols.ip, [np.full(len(p[0]), -1) for p in parts]),
        ip24=cat(cols.ip24, [np.full(len(p[0]), -1) for p in parts]),
        text=list(cols.text) + [t for p in parts for t in p[6]],
    )
    return out, {"ring_members": ring_members, "bombed": bombed, "injected_rows": len(out) - n0}


def _detectors(truth):
    from ml.anomaly import AnomalyEnsemble
    from ml.bursts import BurstDetector
    from ml.features import review_features
    from ml.rings import RingDetector

    def rings(cols):
        detector = RingDetector(random_state=0).fit(cols)
        found = (
            np.concatenate([r.members for r in detector.rings_])
            if detector.rings_
            else np.empty(0, np.int64)
        )
        injected = np.concatenate(truth["ring_members"])
        return {
            "rings": len(detector.rings_),
            "injected_rings_found": sum(
                bool(np.isin(m, found).mean() >= 0.5) for m in truth["ring_members"]
            ),
            "members_found_not_injected": int((~np.isin(found, injected)).sum()),
            "ties": len(detector.ties_),
        }

    def bursts(cols):
        detector = BurstDetector(random_state=0).fit(cols)
        bombing = [b for b in detector.bursts_ if b.label == "bombing"]
        hit = {b.establishment for b in bombing}
        return {
            "bombing": len(bombing),
            "suspected": sum(b.label == "suspected" for b in detector.bursts_),
            "organic": sum(b.label == "organic" for b in detector.bursts_),
            "injected_bombings_found": sum(int(e) in hit for e in truth["bombed"].tolist()),
        }

    def anomaly(cols):
        features = review_features(cols)
        scores = AnomalyEnsemble(random_state=0).fit(features.values).decision_scores_
        return {"scored": len(scores)}

    return {"rings": rings, "bursts": bursts, "anomaly": anomaly}


def child(size: int, trace: bool) -> dict:
    """Generate one batch of ``size`` reviews and run every detector on it."""
    from ml.scenarios import background_columns, synthetic_graph

    t = time.perf_counter()
    reviewer, establishment = synthetic_graph(
        size, max(1, size // 5), max(200, size // 40), random_state=0
    )
    cols, _ = background_columns(reviewer, establishment, random_state=0)
    cols, truth = _inject(cols, np.random.default_rng(1))
    out = {
        "reviews": len(cols),
        "injected_reviews": truth["injected_rows"],
        "reviewers": len(np.unique(reviewer)),
        "establishments": int(establishment.max()) + 1,
        "generate_s": round(time.perf_counter() - t, 2),
        "detectors": {},
    }
    for name, run in _detectors(truth).items():
        gc.collect()
        t = time.perf_counter()
        found = run(cols)
        seconds = time.perf_counter() - t
        result = {"seconds": round(seconds, 2), **found}
        if trace:
            gc.collect()
            tracemalloc.start()
            run(cols)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            result["peak_allocated_mib"] = round(peak / MIB, 1)
        out["detectors"][name] = result
    out["total_detect_s"] = round(sum(d["seconds"] for d in out["detectors"].values()), 2)
    # Linux reports ru_maxrss in KiB.
    out["process_peak_rss_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        json.dump(child(args.child, not args.no_trace), sys.stdout)
        return 0

    results = []
    for size in args.sizes:
        command = [sys.executable, "-m", "bench.scale", "--child", str(size)]
        if args.no_trace:
            command.append("--no-trace")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.stderr.write(done.stderr)
            return done.returncode
        results.append(json.loads(done.stdout))
        if not args.json:
            r = results[-1]
            cells = "; ".join(
                f"{name} {d['seconds']} s"
                + (f" / {d['peak_allocated_mib']} MiB" if "peak_allocated_mib" in d else "")
                + " ("
                + ", ".join(
                    f"{k} {v}" for k, v in d.items() if k not in ("seconds", "peak_allocated_mib")
                )
                + ")"
                for name, d in r["detectors"].items()
            )
            print(
                f"{r['reviews']:>9,} reviews: {cells}; total {r['total_detect_s']} s; "
                f"process peak RSS {r['process_peak_rss_mib']} MiB",
                flush=True,
            )
    if args.json:
        json.dump({"runs": results}, sys.stdout)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
