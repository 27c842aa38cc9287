"""Both moderator groups see threat reports, their evidence and who opened it,
and may invite owners (issue 12). Nobody gets to change or delete evidence."""

from django.db import migrations

from apps.cases.migrations._permissions import grant, revoke

PERMISSIONS = [
    ("reports", "threatreport", "view_threatreport"),
    ("reports", "threatevidence", "view_threatevidence"),
    ("reports", "reportreviewlink", "view_reportreviewlink"),
    ("reports", "evidenceaccess", "view_evidenceaccess"),
    ("establishments", "ownerinvitation", "view_ownerinvitation"),
    ("establishments", "ownerinvitation", "add_ownerinvitation"),
    ("establishments", "ownermembership", "view_ownermembership"),
]
GRANTS = {"Moderators": PERMISSIONS, "Senior moderators": PERMISSIONS}


def grant_evidence(apps, schema_editor) -> None:
    grant(apps, GRANTS)


def revoke_evidence(apps, schema_editor) -> None:
    revoke(apps, GRANTS)


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0002_evidence_access"),
        ("establishments", "0002_owner_invitations"),
        ("cases", "0003_moderator_groups"),
    ]

    operations = [migrations.RunPython(grant_evidence, revoke_evidence)]
