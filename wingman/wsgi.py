"""The web server's entry point (gunicorn wingman.wsgi).

Importing it marks this process as a web process before the settings are
read: web requests then get short database timeouts (DB_LOCK_TIMEOUT_MS,
DB_STATEMENT_TIMEOUT_MS, DB_CONNECT_TIMEOUT in wingman/settings.py), while
manage.py commands, migrations and the benchmark never import this module
and keep long ones. Set WINGMAN_PROCESS to something else to opt out.

In front of Django's handler, the early session reads answer a participant's
repeated read of one session from one Redis call
(sessions_app/session_reads.py); every other request goes straight to Django.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("WINGMAN_PROCESS", "web")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wingman.settings")

django_application = get_wsgi_application()

from sessions_app.session_reads import EarlySessionReads  # noqa: E402 (needs the apps loaded above)

application = EarlySessionReads(django_application)
