"""Periodic upkeep the Celery beat schedule runs (wingman/settings.py, CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .api.idempotency import expired_records_purge


@shared_task(name="sessions.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records() -> str:
    return str(expired_records_purge())
