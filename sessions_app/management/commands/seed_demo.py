"""Demo data that makes every page show something real. Safe to run twice.

Sessions are created through the domain services (so events, ledger rows and
counters are exactly what real use leaves behind); a session that must lie in
the past is scheduled in the future and then moved back, which only demo
data may do.

Run again more than REFRESH_AFTER later, it refreshes the sessions that only
make sense relative to now (in progress, just due, upcoming: LIVE_VENUES in
the demo matches): those of them still open are withdrawn by the system
(cancelled as "demo refreshed", no penalty, nothing to dispute) and made
again. Nothing else is touched: the history stays, and so does any session
someone scheduled in the demo matches themselves.

Passwords: users created now get --password, else one generated password
(printed); users that exist keep theirs unless --password is given. With
DEBUG off it refuses to run (a moderator with a printed password does not
belong on a production database) unless --allow-production says otherwise.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sessions_app import rules, services
from sessions_app.models import (
    ApproachChallenge,
    MatchStatus,
    SessionStatus,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)

USERS = [
    ("alice", "Alice Archer", "Europe/Berlin"),
    ("bob", "Bob Baker", "Europe/London"),
    ("carol", "Carol Cole", "America/New_York"),
    ("dave", "Dave Dunn", "America/Chicago"),
    ("erin", "Erin Ellis", "Europe/Paris"),  # dave blocked and reported her: the moderators' reports queue
]
MODERATOR = ("mod", "Mo Moderator", "UTC")

CHALLENGES = [
    ("Ask for a recommendation", "Ask someone nearby what they would order here.", "beginner", 10),
    ("Give a genuine compliment", "Compliment a stranger on something they chose, then move on.", "beginner", 15),
    ("Start a two-minute chat", "Open a conversation and keep it going for two minutes.", "intermediate", 25),
    ("Join a group conversation", "Introduce yourself to a group of three or more.", "advanced", 40),
    ("Exchange contacts", "End a good conversation by swapping contact details.", "advanced", 50),
]

# The demo's sessions that live relative to now (the README points at the first two), and how old they may
# grow before a new run makes them again.
LIVE_VENUES = ("Corner Coffee House", "The Book Nook", "Market Hall", "Jazz Cellar", "Harbour Pub", "Library Café")
REFRESH_AFTER = timedelta(hours=6)


class Command(BaseCommand):
    help = "Create demo users, matches, challenges and sessions in every status (safe to run twice)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password for the demo users, existing ones included (default: new users get a random one, "
                 "printed; existing users keep theirs).",
        )
        parser.add_argument(
            "--allow-production", action="store_true",
            help="Run even with DEBUG off (creates a moderator whose password is printed).",
        )

    def handle(self, *args, password=None, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG is off: seed_demo would create a moderator with a known password on what may be a "
                "production database. Nothing was changed. Run it with DEBUG=1, or add --allow-production "
                "if this database is really meant for demo data."
            )
        new_password = password or secrets.token_urlsafe(9)
        users, created = self._users(password=password, new_password=new_password)
        challenges = self._challenges()
        ab = self._match(users["alice"], users["bob"])
        cd = self._match(users["carol"], users["dave"])
        de = self._match(users["dave"], users["erin"])
        demo = WingmanSession.objects.filter(match__in=[ab, cd, de])
        if not demo.exists():
            self._blocked(de, users, challenges)  # first: dave ends up under a booking limit below
            self._history(ab, cd, users, challenges)
            self._live(ab, cd, users, challenges)
            self.stdout.write("Created demo sessions in every status.")
        elif self._live_is_stale(demo.filter(match__in=[ab, cd])):
            withdrawn = self._refresh(demo.filter(match__in=[ab, cd]), ab, cd, users, challenges)
            self.stdout.write(f"Refreshed the demo's current sessions relative to now ({withdrawn} old ones that "
                              "were still open withdrawn).")
        else:
            self.stdout.write("Demo sessions exist already; left as they are.")
        self.stdout.write(self.style.SUCCESS("Demo logins (username / password):"))
        for username in [name for name, _, _ in USERS] + [MODERATOR[0]]:
            if password or username in created:
                self.stdout.write(f"  {username} / {new_password}")
            else:
                self.stdout.write(f"  {username} / (unchanged: the password it already had; --password sets a new one)")
        self.stdout.write("  (mod is a moderator: /admin/ on the server)")

    def _users(self, *, password: str | None, new_password: str) -> tuple[dict, set[str]]:
        """The demo users and the names of those created now; `password` (if given) is set on all of them."""
        User = get_user_model()
        users, created = {}, set()
        for username, display_name, tz in [*USERS, MODERATOR]:
            user, is_new = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            if is_new or password:
                user.set_password(new_password)
            if is_new:
                created.add(username)
            if username == MODERATOR[0]:
                user.is_staff = True
            user.save()
            UserProfile.objects.update_or_create(user=user, defaults={"display_name": display_name, "timezone": tz})
            users[username] = user
        users[MODERATOR[0]].groups.add(Group.objects.get(name="Moderators"))
        return users, created

    def _challenges(self) -> list[ApproachChallenge]:
        result = []
        for title, description, difficulty, points in CHALLENGES:
            challenge, _ = ApproachChallenge.objects.get_or_create(
                title=title,
                defaults={"description": description, "difficulty": difficulty, "points": points, "is_active": True},
            )
            result.append(challenge)
        return result

    def _match(self, user1, user2) -> WingmanMatch:
        match = WingmanMatch.objects.filter(user1=user1, user2=user2).first()
        if match is None:
            match = WingmanMatch.objects.create(user1=user1, user2=user2, status=MatchStatus.ACCEPTED)
        return match

    @transaction.atomic
    def _blocked(self, de, users, challenges) -> None:
        """dave + erin: an upcoming session, then dave blocks erin and reports her (an open report)."""
        services.session_schedule(
            user=users["erin"], match_id=de.pk, venue_name="Night Market",
            scheduled_time=timezone.now() + timedelta(days=3),
            user1_challenge_id=challenges[0].pk, user2_challenge_id=challenges[1].pk,
        )
        services.match_block(match_id=de.pk, user=users["dave"], report=True,
                             reason="Kept messaging me after I said no.")

    @staticmethod
    def _live_is_stale(demo) -> bool:
        made = demo.filter(venue_name__in=LIVE_VENUES).aggregate(latest=Max("created_at"))["latest"]
        return made is None or made < timezone.now() - REFRESH_AFTER

    @transaction.atomic
    def _refresh(self, demo, ab, cd, users, challenges) -> int:
        """Withdraw the live sessions of an earlier run that are still open, and make them again for now."""
        stale = demo.filter(venue_name__in=LIVE_VENUES, status__in=[SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS])
        withdrawn = 0
        for pk in stale.order_by("scheduled_time").values_list("pk", flat=True):
            services.session_withdraw(session_id=pk, reason=rules.DEMO_REFRESHED_REASON)
            withdrawn += 1
        self._live(ab, cd, users, challenges)
        return withdrawn

    @staticmethod
    def _scheduler(challenges):
        now = timezone.now()

        def schedule(match, venue, when, c1, c2, by):
            """Schedule at ``when``; a time in the past is scheduled tomorrow and moved back (demo data only)."""
            session = services.session_schedule(
                user=by, match_id=match.pk, venue_name=venue,
                scheduled_time=when if when > now else now + timedelta(days=1),
                user1_challenge_id=challenges[c1].pk, user2_challenge_id=challenges[c2].pk,
            )
            if when <= now:
                session.scheduled_time = when
                session.save(update_fields=["scheduled_time"])  # through the model: its Redis marks move
            return session.pk

        return now, schedule

    @transaction.atomic
    def _history(self, ab, cd, users, challenges) -> None:
        """What has happened: completions, a no-show under dispute, cancellations early and late."""
        alice, bob, carol, dave = (users[name] for name in ("alice", "bob", "carol", "dave"))
        now, schedule = self._scheduler(challenges)

        # Two earlier completions: bob's one no-show below leaves him 80% reliable (no booking limit to speak of).
        for venue, days in (("Museum Café", 13), ("Sunday Brunch Bar", 10)):
            earlier = schedule(ab, venue, now - timedelta(days=days), 0, 1, bob)
            services.session_check_in(session_id=earlier, user=bob)
            services.session_confirm(session_id=earlier, user=alice)
            services.session_confirm(session_id=earlier, user=bob)

        # Completed last week, with shared notes.
        done = schedule(ab, "Café Central", now - timedelta(days=6, hours=2), 0, 2, alice)
        services.session_check_in(session_id=done, user=alice)
        services.session_check_in(session_id=done, user=bob)
        services.notes_update(session_id=done, user=alice, notes="Great start. Bob opened with the menu question.")
        services.session_confirm(session_id=done, user=alice)
        services.session_confirm(session_id=done, user=bob)

        # A no-show three days ago: bob never came.
        absent = schedule(ab, "Riverside Bar", now - timedelta(days=3), 1, 1, alice)
        services.session_check_in(session_id=absent, user=alice)
        services.session_report_no_show(session_id=absent, user=alice)
        # bob contests it: an open dispute in the moderators' queue.
        services.session_dispute(session_id=absent, user=bob, reason="I was at the bar by eight; we missed each other.")

        # Cancelled well ahead, with a reason.
        later = schedule(ab, "Rooftop Lounge", now + timedelta(days=4), 2, 3, bob)
        services.session_cancel(session_id=later, user=bob, reason="Work trip came up; let's find another evening.")

        # carol + dave: a completion, and dave under a booking limit: absent once, cancelled late once (33%
        # reliable: one upcoming session at most).
        cd_done = schedule(cd, "Garden Terrace", now - timedelta(days=2), 2, 0, carol)
        services.session_check_in(session_id=cd_done, user=carol)
        services.session_confirm(session_id=cd_done, user=carol)
        services.session_confirm(session_id=cd_done, user=dave)
        cd_absent = schedule(cd, "Pier Café", now - timedelta(days=1), 1, 2, carol)
        services.session_check_in(session_id=cd_absent, user=carol)
        services.session_report_no_show(session_id=cd_absent, user=carol)
        cd_late = schedule(cd, "Station Bar", now + timedelta(minutes=50), 0, 1, dave)
        services.session_cancel(session_id=cd_late, user=dave, reason="Overslept my alarm, sorry.")

    @transaction.atomic
    def _live(self, ab, cd, users, challenges) -> None:
        """What is going on now and next (LIVE_VENUES): made again, relative to now, by a refresh."""
        alice, bob, carol, dave = (users[name] for name in ("alice", "bob", "carol", "dave"))
        now, schedule = self._scheduler(challenges)

        # Time passed 20 minutes ago, nobody checked in: confirming works at once (alice's "Needs your action").
        schedule(ab, "The Book Nook", now - timedelta(minutes=20), 0, 1, alice)

        # In progress right now: alice checked in a quarter of an hour after its time.
        live = schedule(ab, "Corner Coffee House", now - timedelta(minutes=15), 0, 2, alice)
        services.session_check_in(session_id=live, user=alice)
        services.notes_update(session_id=live, user=alice, notes="Meet by the window seats. Bob goes first.")

        # Coming up: tomorrow and next week.
        schedule(ab, "Market Hall", now + timedelta(days=1, hours=2), 1, 2, alice)
        jazz = schedule(ab, "Jazz Cellar", now + timedelta(days=7), 3, 4, bob)
        # bob would rather go a day later, somewhere else: alice can accept or decline.
        services.session_reschedule_propose(session_id=jazz, user=bob, scheduled_time=now + timedelta(days=8),
                                            venue_name="Blue Note Bar")

        # carol + dave: one in progress (checked in first: dave may hold one upcoming session), one upcoming.
        cd_live = schedule(cd, "Harbour Pub", now - timedelta(minutes=5), 1, 1, dave)
        services.session_check_in(session_id=cd_live, user=dave)
        schedule(cd, "Library Café", now + timedelta(days=2), 0, 3, carol)
