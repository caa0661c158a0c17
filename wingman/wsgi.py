"""The web server's entry point (gunicorn wingman.wsgi).

Importing it marks this process as a web process before the settings are
read: web requests then get short database timeouts (DB_LOCK_TIMEOUT_MS,
DB_STATEMENT_TIMEOUT_MS, DB_CONNECT_TIMEOUT in wingman/settings.py), while
manage.py commands, migrations and the benchmark never import this module
and keep long ones. Set WINGMAN_PROCESS to something else to opt out.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("WINGMAN_PROCESS", "web")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wingman.settings")

application = get_wsgi_application()
