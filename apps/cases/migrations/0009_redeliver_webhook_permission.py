"""Senior moderators, who see webhook deliveries, may re-drive the failed ones
(the admin action "Re-drive the selected failed deliveries"). Moderators do not
see deliveries at all, so they are not given it."""

from django.db import migrations

from apps.cases.migrations._permissions import grant, revoke

GRANTS = {"Senior moderators": [("partners", "webhookdelivery", "redeliver_webhookdelivery")]}


def grant_redeliver(apps, schema_editor) -> None:
    grant(apps, GRANTS)


def revoke_redeliver(apps, schema_editor) -> None:
    revoke(apps, GRANTS)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_appeal_status_choices"),
        ("partners", "0002_webhook_redrive_and_url_checks"),
    ]

    operations = [migrations.RunPython(grant_redeliver, revoke_redeliver)]
