"""``manage.py create_partner NAME``: the API key is printed once, alone on the last line."""

from django.core.management.base import BaseCommand, CommandError

from apps.core.exceptions import ApplicationError
from apps.partners.services import partner_create


class Command(BaseCommand):
    help = "Create a partner and print its API key (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--webhook-url", default="")

    def handle(self, *args, name: str, webhook_url: str, **options):
        try:
            created = partner_create(name=name, webhook_url=webhook_url)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        out = self.stdout
        out.write(f"Created partner {created.partner.name!r} (id {created.partner.pk}).")
        if webhook_url:
            out.write(f"Webhook signing secret: {created.partner.webhook_secret}")
        out.write("API key (shown once, store it now):")
        out.write(created.api_key)
