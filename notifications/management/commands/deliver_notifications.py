"""Deliver every notification due now (or at --now) in one pass; safe to run often and concurrently."""

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications.services import notifications_deliver_due


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO-8601 time to deliver for (default: the clock)")
        parser.add_argument("--force", action="store_true",
                            help="allow a --now in the future with DEBUG off (sends reminders early)")

    def handle(self, *args, now=None, force=False, **options):
        at = timezone.now()
        if now:
            try:
                at = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(
                    f"--now must be an ISO-8601 time, e.g. 2026-05-01T18:00:00+00:00 (got {now!r})"
                ) from None
            if timezone.is_naive(at):
                raise CommandError("--now needs a UTC offset, e.g. 2026-05-01T18:00:00+00:00")
            if at > timezone.now() and not settings.DEBUG and not force:
                raise CommandError("--now is in the future: that would send reminders early. "
                                   "Add --force if that is what you want.")
        report = notifications_deliver_due(now=at)
        self.stdout.write(f"delivered at {at.isoformat()}: {report}")
