from django.core.management.base import BaseCommand

from sessions_app.services import stale_sessions_close


class Command(BaseCommand):
    help = "Close sessions still open 48 hours after their scheduled time. Safe to run often."

    def handle(self, *args, **options):
        outcome = stale_sessions_close()
        self.stdout.write(
            f"Closed {outcome['cancelled'] + outcome['completed']} stale session(s): "
            f"{outcome['cancelled']} cancelled as expired, {outcome['completed']} completed."
        )
