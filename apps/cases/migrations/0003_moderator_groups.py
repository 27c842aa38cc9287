"""Moderator groups and their permissions.

Moderators see cases and their evidence and may assign and decide one case at a
time; senior moderators may also decide in bulk and see partners, webhooks and
detection runs. Nobody gets delete on cases or any write on the audit log
(the admin refuses those even to superusers).
"""

from django.db import migrations

MODERATOR = [
    ("cases", "case", "view_case"),
    ("cases", "case", "change_case"),
    ("cases", "case", "decide_case"),
    ("cases", "caseevent", "view_caseevent"),
    ("cases", "decisionlabel", "view_decisionlabel"),
    ("reviews", "review", "view_review"),
    ("reviews", "reviewer", "view_reviewer"),
    ("establishments", "establishment", "view_establishment"),
]
SENIOR = MODERATOR + [
    ("cases", "case", "bulk_decide_case"),
    ("partners", "partner", "view_partner"),
    ("partners", "webhookdelivery", "view_webhookdelivery"),
    ("partners", "webhookattempt", "view_webhookattempt"),
    ("detection", "detectionrun", "view_detectionrun"),
]
GROUPS = {"Moderators": MODERATOR, "Senior moderators": SENIOR}


def _ensure_permissions(apps) -> None:
    # Permissions are normally created after all migrations (post_migrate);
    # create them now so the groups can refer to them on a fresh database.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def create_groups(apps, schema_editor) -> None:
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(
                content_type__app_label=app_label, content_type__model=model, codename=codename
            )
            for app_label, model, codename in wanted
        ]
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0002_members_labels_permissions"),
        ("reviews", "0001_initial"),
        ("establishments", "0001_initial"),
        ("partners", "0001_initial"),
        ("detection", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
