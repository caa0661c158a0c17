"""On PostgreSQL the audit log and the ledger refuse UPDATE and DELETE of rows.

(TRUNCATE, which the test runner uses to empty tables, is not affected.)
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION wingman_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER session_events_append_only BEFORE UPDATE OR DELETE ON session_events
    FOR EACH ROW EXECUTE FUNCTION wingman_append_only();
CREATE TRIGGER reputation_ledger_append_only BEFORE UPDATE OR DELETE ON reputation_ledger
    FOR EACH ROW EXECUTE FUNCTION wingman_append_only();
"""

ALLOW = """
DROP TRIGGER IF EXISTS session_events_append_only ON session_events;
DROP TRIGGER IF EXISTS reputation_ledger_append_only ON reputation_ledger;
DROP FUNCTION IF EXISTS wingman_append_only();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0002_moderators_group")]

    operations = [migrations.RunPython(forbid, allow)]
