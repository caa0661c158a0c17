"""Periodic upkeep the Celery beat schedule runs (wingman/settings.py, CELERY_BEAT_SCHEDULE)."""

from io import StringIO

from celery import shared_task
from django.core.management import call_command

from .api.idempotency import expired_records_purge


@shared_task(name="sessions.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records() -> str:
    return str(expired_records_purge())


@shared_task(name="sessions.flush_expired_tokens", ignore_result=True)
def flush_expired_tokens() -> str:
    """simplejwt's own command: the refresh-token records (outstanding and blacklisted) past their expiry."""
    out = StringIO()
    call_command("flushexpiredtokens", stdout=out)
    return out.getvalue().strip()
