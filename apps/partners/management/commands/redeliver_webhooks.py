"""``manage.py redeliver_webhooks [--partner NAME] [ID ...]``: re-drive failed deliveries."""

from django.core.management.base import BaseCommand

from apps.partners.models import WebhookDelivery
from apps.partners.services import webhook_redeliver


class Command(BaseCommand):
    help = "Re-drive failed webhook deliveries (all of a partner's, or the given ids)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int)
        parser.add_argument("--partner", default="", help="partner name")

    def handle(self, *args, ids: list[int], partner: str, **options):
        failed = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED)
        if ids:
            failed = failed.filter(id__in=ids)
        if partner:
            failed = failed.filter(partner__name=partner)
        count = webhook_redeliver(delivery_ids=list(failed.values_list("id", flat=True)))
        self.stdout.write(f"{count} failed deliveries re-driven.")
