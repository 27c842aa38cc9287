"""``manage.py calibrate``: refit the fusion weights and per-partner hold thresholds
from moderators' decisions; adopt the refit only when it is not worse."""

from django.core.management.base import BaseCommand

from apps.detection.calibration import MIN_DECISIONS, scoring_model_calibrate


class Command(BaseCommand):
    help = ("Refit the scoring weights and hold thresholds from decided cases; switch to the "
            "new model only when it is not worse on held-out decisions.")

    def add_arguments(self, parser):
        parser.add_argument("--min-decisions", type=int, default=MIN_DECISIONS)
        parser.add_argument("--target-precision", type=float, default=0.9,
                            help="Precision of holds the thresholds aim for.")

    def handle(self, *args, min_decisions: int, target_precision: float, **options):
        record = scoring_model_calibrate(min_decisions=min_decisions,
                                         target_precision=target_precision)
        if record is None:
            self.stdout.write(f"Not enough decisions yet (at least {min_decisions}, both "
                              "outcomes); the model in use is unchanged.")
            return
        mine, base = record.heldout, record.baseline
        self.stdout.write(
            f"Model {record.version} on {record.n_decisions} decided reviews: held-out AP "
            f"{mine.get('ap')} (in use: {base.get('ap')}), log loss {mine.get('log_loss')} "
            f"(in use: {base.get('log_loss')}). "
            + ("Adopted." if record.adopted else "Not adopted: the model in use stays.")
        )
