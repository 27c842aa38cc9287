"""Helpers for the data migrations that grant permissions to the moderator groups.

The leading underscore keeps Django's migration loader from taking this module
for a migration.
"""

Grants = dict[str, list[tuple[str, str, str]]]  # group -> [(app_label, model, codename)]


def ensure_permissions(apps) -> None:
    # Permissions are normally created after all migrations (post_migrate);
    # create them now so the groups can refer to them on a fresh database.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def _permissions(apps, wanted):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=app_label, content_type__model=model,
                               codename=codename)
        for app_label, model, codename in wanted
    ]


def grant(apps, grants: Grants) -> None:
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    for name, wanted in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, wanted))


def revoke(apps, grants: Grants) -> None:
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=grants):
        group.permissions.remove(*_permissions(apps, grants[group.name]))
