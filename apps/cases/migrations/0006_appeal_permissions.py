"""Senior moderators decide appeals; both groups see them."""

from django.db import migrations

GRANTS = {
    "Moderators": [("appeal", "view_appeal")],
    "Senior moderators": [("appeal", "view_appeal"), ("case", "decide_appeal")],
}


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
    for name, wanted in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*[
            Permission.objects.get(content_type__app_label="cases", content_type__model=model,
                                   codename=codename)
            for model, codename in wanted
        ])


def revoke(apps, schema_editor) -> None:
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GRANTS):
        group.permissions.remove(*Permission.objects.filter(
            codename__in=["view_appeal", "decide_appeal"]))


class Migration(migrations.Migration):

    dependencies = [("cases", "0005_appeals")]

    operations = [migrations.RunPython(grant, revoke)]
