from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from sessions_app.services import reputation_rebuild


class Command(BaseCommand):
    help = "Rebuild reputation counters from the ledger and report any drift."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", help="Only these users (default: everyone).")
        parser.add_argument("--dry-run", action="store_true", help="Report drift without fixing it.")

    def handle(self, *args, usernames, dry_run, **options):
        users = get_user_model().objects.order_by("pk")
        if usernames:
            users = users.filter(username__in=usernames)
        checked = drifted = 0
        for user_id, username in users.values_list("pk", "username").iterator():
            checked += 1
            drift = reputation_rebuild(user_id=user_id, fix=not dry_run)
            if drift:
                drifted += 1
                details = ", ".join(f"{name} {stored} -> {expected}" for name, (stored, expected) in drift.items())
                verb = "would fix" if dry_run else "fixed"
                self.stdout.write(self.style.WARNING(f"drift for {username}: {details} ({verb})"))
        if drifted:
            self.stdout.write(f"Checked {checked} user(s); {drifted} had drift.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Checked {checked} user(s); no drift."))
