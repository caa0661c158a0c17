"""Moderators may look at the outbox (failures, unknown outcomes) and the preferences; nothing else."""

from django.db import migrations

CODENAMES = ["view_notification", "view_preference"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("notifications")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="notifications", codename__in=CODENAMES))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Moderators").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="notifications", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial"), ("sessions_app", "0002_moderators_group")]

    operations = [migrations.RunPython(grant, revoke)]
