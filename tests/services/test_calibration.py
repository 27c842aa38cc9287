"""Learning from moderators: refits are recorded, adopted only when not worse,
and the adopted model is what scoring uses."""

import random

import pytest
from django.core.management import call_command

from apps.cases.models import Case, DecisionLabel
from apps.detection.calibration import forget_active_model, scoring_model_calibrate
from apps.detection.models import ScoringModel
from apps.detection.services import reviews_score
from apps.reviews.models import Review
from tests.factories import PartnerFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_model_cached():
    forget_active_model()
    yield
    forget_active_model()


def decided(n_cases: int, *, seed: int = 0, per_case: int = 3):
    """Decided cases whose reviews carry the components moderators agreed with:
    confirmed ones mostly copy text from new accounts, dismissed ones mostly not."""
    rng = random.Random(seed)
    partner = PartnerFactory()
    for k in range(n_cases):
        confirmed = rng.random() < 0.4
        case = Case.objects.create(kind=Case.Kind.ANOMALOUS_REVIEWER, fingerprint=f"cal-{seed}-{k}",
                                   status="confirmed" if confirmed else "dismissed")
        case.partners.add(partner)
        for _ in range(per_case):
            strong = rng.random() < (0.85 if confirmed else 0.15)
            reasons = [{"code": "near_duplicate_text", "score": rng.uniform(0.7, 1.0) if strong
                        else 0.0, "values": {}},
                       {"code": "new_account", "score": rng.uniform(0.5, 1.0) if strong
                        else rng.uniform(0, 0.3), "values": {}}]
            case.reviews.add(ReviewFactory(partner=partner, risk_reasons=reasons,
                                           status="removed" if confirmed else "published"))
        DecisionLabel.objects.create(case=case, kind=case.kind,
                                     label="confirmed" if confirmed else "dismissed")
    return partner


def test_calibration_waits_for_enough_decisions():
    decided(5)
    assert scoring_model_calibrate(min_decisions=200) is None
    assert not ScoringModel.objects.exists()


def test_a_refit_is_recorded_with_its_held_out_figures():
    decided(150)
    record = scoring_model_calibrate(min_decisions=200)
    assert record is not None and record.n_decisions == 450
    assert {"ap", "log_loss"} <= set(record.heldout) and "ap" in record.baseline


def test_only_an_adopted_refit_becomes_the_active_model():
    decided(150)
    record = scoring_model_calibrate(min_decisions=200)
    assert record.active == record.adopted
    assert ScoringModel.objects.filter(active=True).count() == (1 if record.adopted else 0)


def test_scoring_records_the_active_model_version():
    decided(150)
    record = scoring_model_calibrate(min_decisions=200)
    ScoringModel.objects.update(active=False)
    ScoringModel.objects.filter(pk=record.pk).update(active=True)
    forget_active_model()
    review = ReviewFactory(status=Review.Status.PENDING)

    reviews_score(review_ids=[review.id])

    review.refresh_from_db()
    assert review.model_version == record.version


def test_manage_py_calibrate_says_what_it_did(capsys):
    decided(150)
    call_command("calibrate", min_decisions=200)
    assert "decided reviews" in capsys.readouterr().out
