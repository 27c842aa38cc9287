"""Batch detection at scale: time and peak memory of each detector on synthetic batches.

    python -m bench.scale                          # 100k, 250k, 500k, 1M reviews
    python -m bench.scale --sizes 1000000 --json   # one size, JSON on stdout

Each size runs in its own process (so one size's memory cannot leak into the
next): a heavy-tailed synthetic graph (reviewers = reviews / 5, establishments
= reviews / 40; 200k reviewers at 1M) with the synthetic columns of
ml/scenarios.py, English and French texts included. Then, one after the other:
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


def _detectors():
    from ml.anomaly import AnomalyEnsemble
    from ml.bursts import BurstDetector
    from ml.features import review_features
    from ml.rings import RingDetector

    def rings(cols):
        detector = RingDetector(random_state=0).fit(cols)
        return {"rings": len(detector.rings_), "ties": len(detector.ties_)}

    def bursts(cols):
        detector = BurstDetector(random_state=0).fit(cols)
        labels = [b.label for b in detector.bursts_]
        return {"bombing": labels.count("bombing"), "organic": labels.count("organic")}

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
    out = {
        "reviews": size,
        "reviewers": len(np.unique(reviewer)),
        "establishments": int(establishment.max()) + 1,
        "generate_s": round(time.perf_counter() - t, 2),
        "detectors": {},
    }
    for name, run in _detectors().items():
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
            cells = ", ".join(
                f"{name} {d['seconds']} s"
                + (f" / {d['peak_allocated_mib']} MiB" if "peak_allocated_mib" in d else "")
                for name, d in r["detectors"].items()
            )
            print(
                f"{size:>9,} reviews: {cells}; total {r['total_detect_s']} s; "
                f"process peak RSS {r['process_peak_rss_mib']} MiB",
                flush=True,
            )
    if args.json:
        json.dump({"runs": results}, sys.stdout)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
