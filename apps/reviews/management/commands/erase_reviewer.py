"""``manage.py erase_reviewer --partner NAME --external-id ID``: GDPR article 17 erasure."""

from django.core.management.base import BaseCommand, CommandError

from apps.core.exceptions import ApplicationError
from apps.partners.models import Partner
from apps.reviews.erasure import reviewer_erase


class Command(BaseCommand):
    help = ("Erase a reviewer's personal data (name, hashes, review texts); "
            "cases keep their members.")

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
            result = reviewer_erase(partner=found, external_id=external_id)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Reviewer {external_id!r} of {found.name!r} erased: "
            f"{result.reviews} reviews tombstoned; cases unchanged."
        )
