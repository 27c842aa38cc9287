"""Reads of cases shared by the API, the portal and the admin."""

from django.db.models import Prefetch, QuerySet

from apps.establishments.models import Establishment
from apps.partners.models import Partner
from apps.reviews.models import Review, Reviewer

from .models import Case, DecisionLabel


def cases_of_partner(*, partner: Partner) -> QuerySet[Case]:
    """Cases touching the partner, with only the partner's own members prefetched."""
    return (
        Case.objects.filter(partners=partner)
        .prefetch_related(
            Prefetch("establishments", queryset=Establishment.objects.filter(partner=partner)),
            Prefetch("reviews", queryset=Review.objects.filter(partner=partner).only("id", "external_id")),
            Prefetch("reviewers", queryset=Reviewer.objects.filter(partner=partner).only("id", "external_id")),
        )
        .distinct()
    )


def cases_no_longer_open(*, ids) -> list[int]:
    return list(Case.objects.filter(id__in=list(ids)).exclude(status=Case.Status.OPEN)
                .values_list("id", flat=True))


def decided_reviews_for_calibration(*, limit: int = 200_000) -> list[tuple[list, int, int]]:
    """(stored risk reasons, partner id, 1 confirmed / 0 dismissed) for each review
    of a decided case, latest decision first: the labels calibration learns from."""
    rows: list[tuple[list, int, int]] = []
    labels = DecisionLabel.objects.order_by("-created_at").values_list("case_id", "label")
    label_of: dict[int, int] = {}
    for case_id, label in labels:
        label_of.setdefault(case_id, 1 if label == DecisionLabel.Label.CONFIRMED else 0)
    through = Case.reviews.through.objects.filter(case_id__in=list(label_of)).values_list(
        "case_id", "review__risk_reasons", "review__partner_id")
    for case_id, reasons, partner_id in through[:limit]:
        rows.append((reasons or [], partner_id, label_of[case_id]))
    return rows
