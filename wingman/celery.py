"""The Celery app "wingman": `celery -A wingman worker --beat` runs a worker with the periodic sweep.

Configured from the CELERY_* settings: the broker is Redis when REDIS_URL (or
CELERY_BROKER_URL) is set; without it, a folder on this machine (kombu's
filesystem transport), enough for one host in development. Beat may run on
several machines at once: each sweep claims rows atomically, so an extra
sweep only finds nothing to do.
"""

import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wingman.settings")

app = Celery("wingman")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _make_broker_folder(**kwargs) -> None:
    from django.conf import settings

    Path(settings.CELERY_BROKER_FOLDER).mkdir(parents=True, exist_ok=True)
