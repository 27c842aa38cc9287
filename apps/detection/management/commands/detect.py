"""``manage.py detect [--since ISO-DATE]``: batch ring, burst and anomaly detection now.

The same run the hourly beat entry makes, with a progress bar on stderr and a
summary of the DetectionRun at the end.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.detection.batch import BatchParameters, reconciliation_slot, run_batch_detection


class TqdmProgress:
    """One bar per stage: rows while reading, detectors, then cases written."""

    def __init__(self, *, disable: bool) -> None:
        self.disable = disable
        self.bar: tqdm | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        self.close()
        unit = "row" if name.startswith("reading") else "detector" if name == "detecting" else "case"
        self.bar = tqdm(total=total, desc=name, unit=unit, unit_scale=unit == "row",
                        disable=self.disable, smoothing=0.1)

    def describe(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _iso_date(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--since wants an ISO date or datetime, got {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Run batch detection (rings, bursts, anomalous reviewers) and open or extend cases."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=_iso_date, default=None,
                            help="only findings touching reviews written since this date "
                                 "(with enough history before it to judge them)")
        parser.add_argument("--detectors", default="rings,bursts,anomaly",
                            help="comma-separated subset of rings,bursts,anomaly")
        parser.add_argument("--no-ring-text", action="store_true",
                            help="skip near-duplicate text as ring evidence (much less memory)")
        parser.add_argument("--chunk-size", type=int, default=20_000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, since, detectors, no_ring_text, chunk_size, no_progress,
               **options) -> None:
        chosen = tuple(d.strip() for d in detectors.split(",") if d.strip())
        unknown = set(chosen) - {"rings", "bursts", "anomaly"}
        if unknown or not chosen:
            raise CommandError(f"unknown detectors: {', '.join(sorted(unknown)) or '(none)'}")
        params = BatchParameters(since=since, detectors=chosen, ring_text=not no_ring_text,
                                 chunk_size=chunk_size)
        progress = TqdmProgress(disable=no_progress or options["verbosity"] == 0)
        with reconciliation_slot() as free:
            if not free:
                raise CommandError("another reconciliation is running; try again when it ends")
            run = run_batch_detection(params=params, progress=progress)
        m = run.metrics
        self.stdout.write(
            f"DetectionRun #{run.pk} {run.status} in {m['seconds_total']:.1f} s "
            f"(reading {m['seconds_reading']:.1f} s, detecting {m['seconds_detecting']:.1f} s, "
            f"writing {m['seconds_writing']:.1f} s; peak memory {m['peak_memory_mb']:.0f} MB)"
        )
        self.stdout.write("counts: " + json.dumps(run.counts, sort_keys=True))
        self.stdout.write("cases: " + json.dumps(m.get("cases", {}), sort_keys=True))
