from django.core.management.base import BaseCommand

from sessions_app.api.idempotency import KEY_LIFETIME, expired_records_purge


class Command(BaseCommand):
    help = "Delete the Idempotency-Key records older than 24 hours. Safe to run often and concurrently."

    def handle(self, *args, **options):
        deleted = expired_records_purge()
        hours = int(KEY_LIFETIME.total_seconds() // 3600)
        self.stdout.write(f"Deleted {deleted} idempotency record(s) older than {hours} hours.")
