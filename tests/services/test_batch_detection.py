"""Batch detection over the database: a planted ring becomes one case, re-runs add no twin."""

import random
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from apps.cases.models import Case
from apps.cases.services import case_decide
from apps.core.db import advisory_lock_key
from apps.detection.batch import (
    RECONCILIATION_LOCK,
    BatchParameters,
    read_batch_columns,
    run_batch_detection,
)
from apps.detection.models import DetectionRun
from apps.establishments.models import Alert
from apps.reviews import pii
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, PartnerFactory, ReviewerFactory, ReviewFactory
from tests.factories_cases import moderator

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)
RINGS_ONLY = BatchParameters(detectors=("rings",))
WORDS = ["room", "breakfast", "staff", "view", "pool", "noise", "bed", "shower", "price",
         "location", "lobby", "parking", "quiet", "terrace", "dinner", "towels", "coffee",
         "garden", "elevator", "balcony", "cold", "dirty", "late", "rude"]


@pytest.fixture
def partner():
    return PartnerFactory()


@pytest.fixture
def background(partner):
    """Ordinary guests: each reviews two of twelve establishments, weeks apart."""
    establishments = [EstablishmentFactory(partner=partner) for _ in range(12)]
    for k in range(40):
        reviewer = ReviewerFactory(partner=partner)
        for j in range(2):
            ReviewFactory(partner=partner, reviewer=reviewer,
                          establishment=establishments[(k + 5 * j) % 12],
                          rating=3 + (k + j) % 3, status=Review.Status.PUBLISHED,
                          device_hash=f"{k:02d}{j}".ljust(64, "a"),
                          created_at=NOW - timedelta(days=10 + 7 * j + k % 30))
    return establishments


def plant_ring(partner, establishments, *, members=5, device="d" * 64):
    """Members sharing one device, all praising the same three establishments the same day."""
    reviewers = [ReviewerFactory(partner=partner) for _ in range(members)]
    for i, reviewer in enumerate(reviewers):
        for j, est in enumerate(establishments[:3]):
            ReviewFactory(partner=partner, reviewer=reviewer, establishment=est, rating=5,
                          status=Review.Status.PUBLISHED, device_hash=device,
                          created_at=NOW - timedelta(days=2, hours=i + j))
    return reviewers


def ring_cases():
    return Case.objects.filter(kind=Case.Kind.SOCK_PUPPET_RING)


def test_reading_returns_one_row_per_review_with_codes(partner, background):
    data = read_batch_columns()
    assert len(data) == Review.objects.count()
    assert sorted(data.review_ids.tolist()) == sorted(Review.objects.values_list("id", flat=True))
    assert (data.columns.device >= 0).all()
    assert (data.columns.email == -1).all()  # no e-mails in the factories


def test_planted_ring_opens_one_ring_case(partner, background):
    reviewers = plant_ring(partner, background)
    run_batch_detection(params=RINGS_ONLY)
    case = ring_cases().get()
    assert set(case.reviewers.values_list("id", flat=True)) == {r.id for r in reviewers}
    assert case.reviews.count() == 15
    assert {r["code"] for r in case.reasons} >= {"ring_shared_device"}


def test_rerun_opens_no_twin(partner, background):
    plant_ring(partner, background)
    run_batch_detection(params=RINGS_ONLY)
    second = run_batch_detection(params=RINGS_ONLY)
    assert ring_cases().count() == 1
    assert second.metrics["cases"] == {"sock_puppet_ring:unchanged": 1}


def test_grown_ring_extends_its_case(partner, background):
    plant_ring(partner, background)
    run_batch_detection(params=RINGS_ONLY)
    plant_ring(partner, background, members=2)  # two more accounts on the same device
    run = run_batch_detection(params=RINGS_ONLY)
    assert run.metrics["cases"] == {"sock_puppet_ring:extended": 1}
    assert ring_cases().get().reviewers.count() == 7


def test_dismissed_ring_stays_dismissed_on_rerun(partner, background):
    plant_ring(partner, background)
    run_batch_detection(params=RINGS_ONLY)
    case_decide(case=ring_cases().get(), decision="dismissed", actor=moderator(),
                note="A tour group on one tablet.")
    run_batch_detection(params=RINGS_ONLY)
    assert ring_cases().get().status == Case.Status.DISMISSED


def test_run_is_recorded_with_counts_timings_and_versions(partner, background):
    plant_ring(partner, background)
    run = run_batch_detection()
    assert run.status == DetectionRun.Status.SUCCEEDED
    assert run.counts["reviews"] == Review.objects.count()
    assert run.counts["rings"] == 1
    for key in ("seconds_reading", "seconds_detecting", "seconds_rings", "seconds_bursts",
                "seconds_anomaly", "seconds_writing", "peak_memory_mb"):
        assert run.metrics[key] >= 0
    assert set(run.model_versions) >= {"rings", "bursts", "anomaly"}
    assert run.parameters["detectors"] == ["rings", "bursts", "anomaly"]


def test_since_ignores_findings_older_than_the_date(partner, background):
    plant_ring(partner, background)
    run_batch_detection(params=BatchParameters(detectors=("rings",), since=NOW - timedelta(hours=1)))
    assert not ring_cases().exists()


def test_burst_of_new_accounts_opens_a_bombing_case(partner, background):
    target = background[0]
    for k in range(8):
        reviewer = ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=2))
        ReviewFactory(partner=partner, reviewer=reviewer, establishment=target, rating=1,
                      device_hash="b" * 64, text="Dirty, rude staff, avoid this place!",
                      created_at=NOW - timedelta(hours=20 - k))
    run_batch_detection(params=BatchParameters(detectors=("bursts",)))
    case = Case.objects.get(kind=Case.Kind.REVIEW_BOMBING)
    assert case.reviews.count() == 8
    assert list(case.establishments.all()) == [target]


def test_a_bombing_found_by_reconciliation_holds_its_published_reviews(partner, background):
    target = background[0]
    crew = [ReviewFactory(partner=partner, establishment=target, rating=1,
                          reviewer=ReviewerFactory(partner=partner,
                                                   account_created_at=NOW - timedelta(days=2)),
                          device_hash="b" * 64, text="Dirty, rude staff, avoid this place!",
                          status=Review.Status.PUBLISHED, created_at=NOW - timedelta(hours=20 - k))
            for k in range(8)]
    run_batch_detection(params=BatchParameters(detectors=("bursts",)))
    assert set(Review.objects.filter(id__in=[r.id for r in crew])
               .values_list("status", flat=True)) == {Review.Status.HELD}
    assert Alert.objects.filter(establishment=target, kind=Alert.Kind.REVIEW_BOMBING).exists()


def aged_crew(partner, target, n=8, *, reviewed_before=None):
    """Old accounts with stays and words of their own, posting from two networks
    (``reviewed_before``: each also reviewed that establishment 200 days ago)."""
    crew = [ReviewFactory(partner=partner, establishment=target, rating=1,
                          reviewer=ReviewerFactory(partner=partner,
                                                   account_created_at=NOW - timedelta(days=900)),
                          booking_ref_hash=pii.booking_ref_hash(f"stay-{k}"),
                          ip24_hash=pii.ip_hashes(f"198.51.{k % 2}.{10 + k}")[1],
                          text=" ".join(random.Random(k).choices(WORDS, k=20)),
                          status=Review.Status.PUBLISHED, created_at=NOW - timedelta(hours=20 - k))
            for k in range(n)]
    if reviewed_before is not None:
        for review in crew:
            ReviewFactory(partner=partner, reviewer=review.reviewer, establishment=reviewed_before,
                          rating=4, status=Review.Status.PUBLISHED,
                          created_at=NOW - timedelta(days=200))
    return crew


def test_a_suspected_burst_opens_a_case_and_holds_nothing(partner, background):
    target = background[0]
    crew = aged_crew(partner, target)
    run_batch_detection(params=BatchParameters(detectors=("bursts",)))
    case = Case.objects.get(kind=Case.Kind.REVIEW_BOMBING)
    assert set(case.reviews.values_list("id", flat=True)) == {r.id for r in crew}
    assert "burst_suspected" in {r["code"] for r in case.reasons}
    assert set(Review.objects.filter(id__in=[r.id for r in crew])
               .values_list("status", flat=True)) == {Review.Status.PUBLISHED}


def test_a_suspected_burst_raises_no_alert(partner, background):
    aged_crew(partner, background[0])
    run_batch_detection(params=BatchParameters(detectors=("bursts",)))
    assert not Alert.objects.exists()


def test_guests_with_a_history_older_than_the_lookback_are_not_suspected(partner, background):
    aged_crew(partner, background[0], reviewed_before=background[1])
    run_batch_detection(params=BatchParameters(detectors=("bursts",)))
    assert not Case.objects.filter(kind=Case.Kind.REVIEW_BOMBING).exists()


def test_praise_from_a_crew_of_new_accounts_is_a_ring_case_holding_its_reviews(
        partner, background):
    target = background[0]
    crew = [ReviewFactory(partner=partner, establishment=target, rating=5,
                          reviewer=ReviewerFactory(partner=partner,
                                                   account_created_at=NOW - timedelta(days=2)),
                          text=" ".join(random.Random(k).choices(WORDS, k=20)),
                          status=Review.Status.PUBLISHED, created_at=NOW - timedelta(hours=20 - k))
            for k in range(8)]
    run_batch_detection(params=BatchParameters(detectors=("bursts",)))
    case = Case.objects.get(kind=Case.Kind.SOCK_PUPPET_RING)
    assert set(case.reviewers.values_list("id", flat=True)) == {r.reviewer_id for r in crew}
    assert set(Review.objects.filter(id__in=[r.id for r in crew])
               .values_list("status", flat=True)) == {Review.Status.HELD}


def test_without_ring_text_bursts_still_compare_their_texts(partner, background):
    target = background[0]
    for k in range(8):
        reviewer = ReviewerFactory(partner=partner, account_created_at=NOW - timedelta(days=2))
        ReviewFactory(partner=partner, reviewer=reviewer, establishment=target, rating=1,
                      text="Dirty rooms and rude staff at the desk, avoid this hotel at all costs!",
                      created_at=NOW - timedelta(hours=20 - k))
    run_batch_detection(params=BatchParameters(detectors=("bursts",), ring_text=False))
    case = Case.objects.get(kind=Case.Kind.REVIEW_BOMBING)
    assert "burst_similar_text" in {r["code"] for r in case.reasons}


def test_command_prints_the_run_summary(partner, background, capsys):
    plant_ring(partner, background)
    call_command("detect", "--no-progress", "--detectors", "rings")
    out = capsys.readouterr().out
    assert "DetectionRun #" in out and "succeeded" in out
    assert ring_cases().count() == 1


def test_failed_run_is_recorded(partner, background, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("detector crashed")

    monkeypatch.setattr("apps.detection.batch.RingDetector.fit", boom)
    with pytest.raises(RuntimeError):
        run_batch_detection(params=RINGS_ONLY)
    run = DetectionRun.objects.get()
    assert (run.status, run.error) == (DetectionRun.Status.FAILED, "RuntimeError: detector crashed")


def test_beat_task_runs_a_batch(partner, background):
    from apps.detection.tasks import run_batch_detection_task as task

    plant_ring(partner, background)
    result = task()
    assert DetectionRun.objects.get(pk=result["run"]).status == DetectionRun.Status.SUCCEEDED
    assert ring_cases().count() == 1


@contextmanager
def _another_session_reconciling():
    """Another database session holding the reconciliation lock (another worker)."""
    if connection.vendor != "postgresql":
        DetectionRun.objects.create()  # running, recently: what SQLite goes by
        yield
        return
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"] or None,
                         port=db["PORT"] or None, password=db["PASSWORD"] or None) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [advisory_lock_key(RECONCILIATION_LOCK)])
        DetectionRun.objects.create()
        yield


def test_beat_task_skips_while_another_run_is_in_progress():
    from apps.detection.tasks import run_batch_detection_task as task

    with _another_session_reconciling():
        assert task() == {"skipped": "another run is in progress"}
    assert DetectionRun.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_a_run_left_running_by_a_killed_worker_does_not_block_the_next(background):
    from apps.detection.tasks import run_batch_detection_task as task

    orphan = DetectionRun.objects.create()  # its worker died: nobody holds the lock

    result = task()

    orphan.refresh_from_db()
    assert orphan.status == DetectionRun.Status.FAILED
    assert orphan.error.startswith("interrupted")
    assert DetectionRun.objects.get(pk=result["run"]).status == DetectionRun.Status.SUCCEEDED


def test_a_stopping_worker_leaves_its_run_failed_not_running(monkeypatch):
    def stop(*args, **kwargs):
        raise SystemExit(0)  # what a stopping worker raises in its task (billiard)

    monkeypatch.setattr("apps.detection.batch.read_reviews", stop)
    with pytest.raises(SystemExit):
        run_batch_detection()

    assert DetectionRun.objects.get().status == DetectionRun.Status.FAILED


def test_beat_schedule_runs_reconciliation_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["batch-detection"]
    assert entry["task"] == "batch.run_detection"
    assert entry["schedule"] == 300.0


def test_reconciliation_reads_from_its_last_successful_run(monkeypatch):
    from datetime import timedelta

    from apps.detection import batch
    from apps.detection.tasks import run_batch_detection_task

    last = DetectionRun.objects.create(status=DetectionRun.Status.SUCCEEDED)
    seen = {}

    def run(*, params):
        seen["since"] = params.since
        return DetectionRun.objects.create(status=DetectionRun.Status.SUCCEEDED)

    monkeypatch.setattr(batch, "run_batch_detection", run)
    run_batch_detection_task()
    assert seen["since"] == last.started_at - timedelta(minutes=10)
