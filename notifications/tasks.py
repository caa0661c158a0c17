"""Celery tasks only start sweeps: the outbox table is the queue, so a lost task loses nothing."""

from celery import shared_task

from .services import notifications_deliver_due


@shared_task(name="notifications.deliver_due", ignore_result=True)
def deliver_due() -> str:
    return str(notifications_deliver_due())
