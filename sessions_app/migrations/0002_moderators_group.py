"""The Moderators group: what moderation needs and no more.

View and change sessions, matches, challenges and profiles; moderate sessions
(the permission the services check for cancel, no-show and complete by a
moderator); view the audit log, the ledger and users (to find them). No add
or delete of anything: sessions are scheduled by participants, and users,
sessions, events and ledger rows are never deleted from the admin.
"""

from django.db import migrations

MODERATOR_PERMISSIONS = {
    "sessions_app": [
        "view_wingmansession",
        "change_wingmansession",
        "moderate_wingmansession",
        "view_wingmanmatch",
        "change_wingmanmatch",
        "view_approachchallenge",
        "change_approachchallenge",
        "view_userprofile",
        "change_userprofile",
        "view_sessionevent",
        "view_reputationledger",
    ],
    "auth": ["view_user"],
}


def create_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; make sure
    # they exist now so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    for app_label, codenames in MODERATOR_PERMISSIONS.items():
        permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        found = set(permissions.values_list("codename", flat=True))
        missing = set(codenames) - found
        if missing:
            raise RuntimeError(f"permissions not found: {sorted(missing)}")
        group.permissions.add(*permissions)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
