"""``manage.py erase_reviewer --partner NAME --external-id ID``: GDPR article 17 erasure.

One transaction over three owners' tables: the threat reports that name the
reviewer (``apps.reports.erasure``, first: it finds them by the identifier
hashes about to be cleared), the reviewer and their reviews
(``apps.reviews.erasure``), and their reviews' rows in the near-duplicate text
index, with a record that makes scoring processes drop the rows they keep in
memory (``apps.detection.erasure``). Cases keep their members and evidence.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.core.exceptions import ApplicationError
from apps.detection.erasure import detection_data_erase
from apps.partners.models import Partner
from apps.reports.erasure import reports_erase_reviewer
from apps.reviews.erasure import reviewer_erase
from apps.reviews.models import Reviewer


class Command(BaseCommand):
    help = ("Erase a reviewer's personal data (name, hashes, review texts, the threat reports "
            "naming them, the text index); cases keep their members.")

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="partner name (or id)")
        parser.add_argument("--external-id", required=True, help="the reviewer's external_id")

    def handle(self, *args, partner: str, external_id: str, **options):
        found = Partner.objects.filter(name=partner).first()
        if found is None and partner.isdigit():
            found = Partner.objects.filter(pk=int(partner)).first()
        if found is None:
            raise CommandError(f"No partner named {partner!r}.")
        try:
            with transaction.atomic():
                reviewer = Reviewer.objects.filter(partner=found, external_id=external_id).first()
                reports = reports_erase_reviewer(reviewer=reviewer) if reviewer else 0
                result = reviewer_erase(partner=found, external_id=external_id)
                bands = detection_data_erase(review_ids=result.review_ids)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Reviewer {external_id!r} of {found.name!r} erased: "
            f"{result.reviews} reviews tombstoned, {reports} threat reports cleared of them, "
            f"{bands} text index rows deleted; cases unchanged."
        )
