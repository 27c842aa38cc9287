"""Senior moderators decide appeals; both groups see them."""

from django.db import migrations

from apps.cases.migrations._permissions import grant, revoke

GRANTS = {
    "Moderators": [("cases", "appeal", "view_appeal")],
    "Senior moderators": [("cases", "appeal", "view_appeal"), ("cases", "case", "decide_appeal")],
}


def grant_appeals(apps, schema_editor) -> None:
    grant(apps, GRANTS)


def revoke_appeals(apps, schema_editor) -> None:
    revoke(apps, GRANTS)


class Migration(migrations.Migration):

    dependencies = [("cases", "0005_appeals")]

    operations = [migrations.RunPython(grant_appeals, revoke_appeals)]
