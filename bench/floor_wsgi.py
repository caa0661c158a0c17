"""WSGI entry of the floor server: `gunicorn -c gunicorn.conf.py bench.floor_wsgi` (started by bench/run.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor_settings"

application = get_wsgi_application()
