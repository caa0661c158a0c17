"""Moderators work the reports and disputes queues (reviewing and resolving through services) and see blocks."""

from django.db import migrations

PERMISSIONS = ["view_report", "view_block", "view_dispute", "change_dispute"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("sessions_app")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="sessions_app", codename__in=PERMISSIONS))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Moderators"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="sessions_app",
                                                            codename__in=PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0007_disputes")]

    operations = [migrations.RunPython(grant, revoke)]
