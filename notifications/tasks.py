"""Celery tasks only start sweeps: the outbox table is the queue, so a lost task loses nothing; and the daily
purge of notifications long done with."""

from celery import shared_task

from .services import notifications_deliver_due, notifications_purge_old


@shared_task(name="notifications.deliver_due", ignore_result=True)
def deliver_due() -> str:
    return str(notifications_deliver_due())


@shared_task(name="notifications.purge_old", ignore_result=True)
def purge_old() -> str:
    return str(notifications_purge_old())
