"""``manage.py import_reviews FILE --partner NAME``: backfill a partner's past reviews.

Reads JSON lines (one API v1 review object per line) or CSV (the same fields,
the reviewer's flattened as ``reviewer_external_id``, ``reviewer_display_name``,
``reviewer_email``, ``reviewer_account_created_at``, ``reviewer_ip``,
``reviewer_device_id``). Every review is validated like the API's, stored
idempotently (a re-run skips what is already there) and marked historical: it is
scored in bulk on the batch queue, with no webhook per review, so importing
years of history neither floods the partner nor delays new reviews' verdicts.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.core.exceptions import ApplicationError
from apps.core.validation import validate_object
from apps.detection.services import reviews_submit
from apps.partners.models import Partner
from apps.reviews.schemas import MAX_BATCH, REVIEW_FIELDS

REVIEWER_COLUMNS = ("external_id", "display_name", "email", "account_created_at", "ip",
                    "device_id")


def _from_csv(row: dict) -> dict:
    item = {k: v for k, v in row.items() if k and not k.startswith("reviewer_") and v != ""}
    item["reviewer"] = {c: row[f"reviewer_{c}"] for c in REVIEWER_COLUMNS
                        if row.get(f"reviewer_{c}")}
    if str(item.get("rating", "")).isdigit():  # otherwise the validator says what is wrong
        item["rating"] = int(item["rating"])
    return item


def _items(path: Path, fmt: str) -> Iterator[tuple[int, dict | None]]:
    """(line number, raw item or None when the line is not an object)."""
    with path.open(encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            for line, row in enumerate(csv.DictReader(handle), start=2):
                yield line, _from_csv(row)
            return
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                yield line, None
                continue
            yield line, value if isinstance(value, dict) else None


class Command(BaseCommand):
    help = "Backfill a partner's past reviews from a JSON-lines or CSV file (scored in bulk)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--partner", required=True, help="The partner's name.")
        parser.add_argument("--format", choices=("jsonl", "csv"),
                            help="Default: from the file's extension.")
        parser.add_argument("--batch", type=int, default=MAX_BATCH)
        parser.add_argument("--show-errors", type=int, default=10,
                            help="How many invalid lines to describe.")

    def handle(self, *args, file: Path, partner: str, format: str | None, batch: int,
               show_errors: int, **options):
        if not file.exists():
            raise CommandError(f"No such file: {file}")
        fmt = format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
        the_partner = Partner.objects.filter(name=partner).first()
        if the_partner is None:
            raise CommandError(f"No partner named {partner!r}.")
        counts: Counter = Counter()
        errors: list[str] = []
        pending: list[dict] = []

        def flush() -> None:
            if not pending:
                return
            try:
                results = reviews_submit(partner=the_partner, items=pending)
            except ApplicationError as exc:  # e.g. unknown establishments: nothing stored
                counts["rejected"] += len(pending)
                errors.append(f"batch of {len(pending)} rejected: {exc.code}: {exc.message}")
            else:
                counts.update({201: "created", 200: "unchanged", 409: "conflicts"}[r.status]
                              for r in results)
            pending.clear()

        with tqdm(desc="importing", unit=" reviews", disable=options["verbosity"] < 1) as bar:
            for line, raw in _items(file, fmt):
                bar.update(1)
                clean, problems = (None, {"line": ["Not a JSON object."]}) if raw is None else (
                    validate_object(REVIEW_FIELDS, raw))
                if problems:
                    counts["invalid"] += 1
                    if len(errors) < show_errors:
                        errors.append(f"line {line}: {json.dumps(problems, ensure_ascii=False)}")
                    continue
                clean["historical"] = True
                pending.append(clean)
                if len(pending) >= batch:
                    flush()
            flush()
        for error in errors:
            self.stderr.write(error)
        self.stdout.write(
            f"{counts['created']} created, {counts['unchanged']} unchanged, "
            f"{counts['conflicts']} conflicts, {counts['invalid']} invalid, "
            f"{counts['rejected']} rejected; scoring continues in the background."
        )
        if counts["invalid"] or counts["rejected"]:
            raise CommandError("some reviews were not imported (see above)")
