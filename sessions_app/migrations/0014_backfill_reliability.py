"""Fill reliability_percent for every user: 0009 added the column empty, and only sessions finished since
then set it. One statement over all sessions (sessions_app.reliability, tables and columns only)."""

from django.db import migrations


def fill_reliability(apps, schema_editor):
    from sessions_app.reliability import reliability_refresh

    reliability_refresh(connection=schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('sessions_app', '0013_session_blocked_by'),
    ]

    operations = [
        migrations.RunPython(fill_reliability, migrations.RunPython.noop),
    ]
