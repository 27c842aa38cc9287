"""Both moderator groups see threat reports, their evidence and who opened it,
and may invite owners (issue 12). Nobody gets to change or delete evidence."""

from django.db import migrations

PERMISSIONS = [
    ("reports", "threatreport", "view_threatreport"),
    ("reports", "threatevidence", "view_threatevidence"),
    ("reports", "reportreviewlink", "view_reportreviewlink"),
    ("reports", "evidenceaccess", "view_evidenceaccess"),
    ("establishments", "ownerinvitation", "view_ownerinvitation"),
    ("establishments", "ownerinvitation", "add_ownerinvitation"),
    ("establishments", "ownermembership", "view_ownermembership"),
]
GROUPS = ("Moderators", "Senior moderators")


def _ensure_permissions(apps) -> None:
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def grant(apps, schema_editor) -> None:
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = [
        Permission.objects.get(content_type__app_label=app_label, content_type__model=model,
                               codename=codename)
        for app_label, model, codename in PERMISSIONS
    ]
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*wanted)


def revoke(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [codename for _, _, codename in PERMISSIONS]
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*Permission.objects.filter(codename__in=codenames))


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0002_evidence_access"),
        ("establishments", "0002_owner_invitations"),
        ("cases", "0003_moderator_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
