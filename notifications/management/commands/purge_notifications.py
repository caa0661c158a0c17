"""Delete the notifications due more than NOTIFICATIONS_KEEP_DAYS ago that are done with (delivered or given up,
and read or never shown in the inbox); safe to run often and concurrently."""

from django.conf import settings
from django.core.management.base import BaseCommand

from notifications.services import notifications_purge_old


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        deleted = notifications_purge_old()
        days = settings.NOTIFICATIONS_KEEP_DAYS
        self.stdout.write(f"Deleted {deleted} notification(s) due more than {days} days ago.")
