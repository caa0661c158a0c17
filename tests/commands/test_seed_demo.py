"""seed_demo: demo users, matches, challenges and sessions in every status; safe to run twice,
keeps the passwords it finds unless told otherwise, and stays off production databases."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.db.models import F
from django.utils import timezone

from sessions_app import rules, services
from sessions_app.models import (
    ApproachChallenge,
    ReputationLedger,
    SessionEvent,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)
from tests.conftest import PASSWORD, command_output, snapshot_db, web_client

DEMO_USERS = ("alice", "bob", "carol", "dave")
ALL_DEMO_USERS = (*DEMO_USERS, "mod")


@pytest.fixture(autouse=True)
def _debug_on(settings):
    """As `dev.py run` does (pytest-django turns DEBUG off); the tests of DEBUG off switch it back."""
    settings.DEBUG = True


def seed(*args) -> str:
    return command_output("seed_demo", *args)


def test_it_creates_the_demo_world(db):
    seed("--password", "demo-pass-123")
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
    assert set(users) == set(DEMO_USERS)
    assert UserProfile.objects.filter(user__username__in=DEMO_USERS).exclude(display_name="").count() == 4

    pairs = set(WingmanMatch.objects.filter(status="accepted").values_list("user1__username", "user2__username"))
    assert {("alice", "bob"), ("carol", "dave")} <= pairs
    assert ApproachChallenge.objects.filter(is_active=True).count() >= 2

    statuses = set(WingmanSession.objects.values_list("status", flat=True))
    assert statuses == {"scheduled", "in_progress", "completed", "cancelled", "no_show"}
    ab = WingmanSession.objects.filter(user1=users["alice"], user2=users["bob"])
    assert ab.filter(status="in_progress").count() == 1
    due = ab.filter(status="scheduled", scheduled_time__lt=timezone.now())
    assert due.count() == 1
    # Confirming can be tried at once on the session whose time has passed.
    result = services.session_confirm(session_id=due.get().pk, user=users["alice"])
    assert result.session.user2_completed_confirmed_by_user1


def test_it_goes_through_the_domain_layer(db):
    seed("--password", "demo-pass-123")
    assert SessionEvent.objects.filter(kind="completed").exists()
    assert ReputationLedger.objects.filter(reason="completion").exists()
    for user in get_user_model().objects.all():
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}


def test_it_sets_the_given_password(db):
    output = seed("--password", "demo-pass-123")
    for username in DEMO_USERS:
        assert get_user_model().objects.get(username=username).check_password("demo-pass-123")
        assert f"{username} / demo-pass-123" in output


def test_it_prints_a_random_password_that_works(db):
    output = seed()
    password = re.search(r"alice / (\S+)", output).group(1)
    assert len(password) >= 8
    assert get_user_model().objects.get(username="bob").check_password(password)


def test_running_it_twice_creates_no_duplicates(db):
    seed("--password", "demo-pass-123")
    before = snapshot_db()
    users = get_user_model().objects.count()
    challenges = ApproachChallenge.objects.count()
    output = seed("--password", "demo-pass-123")
    assert "exist already" in output
    assert get_user_model().objects.count() == users
    assert ApproachChallenge.objects.count() == challenges
    assert snapshot_db() == before


def printed_password(output: str, username: str) -> str:
    return re.search(rf"^  {username} / (\S+)$", output, re.MULTILINE).group(1)


def test_a_second_run_keeps_the_printed_passwords(db):
    first = printed_password(seed(), "alice")
    output = seed()
    User = get_user_model()
    for username in ALL_DEMO_USERS:
        assert User.objects.get(username=username).check_password(first), username
        assert f"  {username} / (unchanged: the password it already had; --password sets a new one)" in output
    assert first not in output


def test_it_keeps_a_password_changed_since(db, alice):
    """A demo user whose password someone changed (here alice, made by the fixtures) keeps it."""
    output = seed()
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)
    assert "  alice / (unchanged" in output
    new = printed_password(output, "bob")  # bob did not exist: he gets the generated password
    assert get_user_model().objects.get(username="bob").check_password(new)


def test_a_second_run_can_change_the_password(db):
    seed("--password", "first-pass-123")
    output = seed("--password", "second-pass-456")
    for username in ALL_DEMO_USERS:
        assert get_user_model().objects.get(username=username).check_password("second-pass-456")
        assert f"  {username} / second-pass-456" in output


def test_it_refuses_to_run_with_debug_off(db, settings, unchanged):
    settings.DEBUG = False
    User = get_user_model()
    with unchanged():
        with pytest.raises(CommandError) as refused:
            seed("--password", "demo-pass-123")
    assert refused.value.returncode != 0
    assert "DEBUG is off" in str(refused.value) and "--allow-production" in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert User.objects.count() == 0 and ApproachChallenge.objects.count() == 0


def test_it_refuses_with_debug_off_to_touch_existing_passwords(db, settings, alice, unchanged):
    settings.DEBUG = False
    with unchanged():
        with pytest.raises(CommandError):
            seed("--password", "demo-pass-123")
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["alice"]


def test_it_runs_with_debug_off_when_allowed(db, settings):
    settings.DEBUG = False
    output = seed("--allow-production")
    password = printed_password(output, "mod")
    moderator = get_user_model().objects.get(username="mod")
    assert moderator.is_staff and moderator.check_password(password)
    assert WingmanSession.objects.filter(user1__username="alice").exists()


def test_it_shows_the_trust_features(db):
    """A pending reschedule proposal, an open report, an open dispute and a user under a booking limit."""
    from sessions_app import rules
    from sessions_app.models import Dispute, Report

    seed("--password", "demo-pass-123")
    now = timezone.now()
    pending = [s for s in WingmanSession.objects.filter(reschedule_proposed_by__isnull=False)
               if rules.pending_reschedule(s, now)]
    assert [s.reschedule_proposed_by.username for s in pending] == ["bob"]
    report = Report.objects.get()
    assert (report.reporter.username, report.reported.username, report.status) == ("dave", "erin", "open")
    dispute = Dispute.objects.get()
    assert (dispute.opened_by.username, dispute.status, dispute.session.status) == ("bob", "open", "no_show")
    limited = {p.user.username: rules.booking_limit(p) for p in UserProfile.objects.select_related("user")}
    assert limited["dave"] == 1 and limited["alice"] == limited["bob"] == 10


def demo_session(venue: str, **conditions) -> WingmanSession:
    return WingmanSession.objects.get(venue_name=venue, **conditions)


def near(value, expected, slack=timedelta(minutes=2)) -> bool:
    return abs(value - expected) <= slack


def test_upcoming_sessions_keep_their_days(db):
    seed("--password", "demo-pass-123")
    now = timezone.now()
    assert near(demo_session("Market Hall").scheduled_time, now + timedelta(days=1, hours=2))
    assert near(demo_session("Jazz Cellar").scheduled_time, now + timedelta(days=7))
    assert near(demo_session("Library Café").scheduled_time, now + timedelta(days=2))
    assert near(demo_session("The Book Nook").scheduled_time, now - timedelta(minutes=20))


def test_the_past_time_session_waits_on_alices_dashboard(db):
    seed("--password", "demo-pass-123")
    alice = get_user_model().objects.get(username="alice")
    html = web_client(alice).get("/").content.decode()
    todo = html[html.index('data-testid="needs-action"'):]
    todo = todo[:todo.index("</section>")]
    book_nook = demo_session("The Book Nook")
    assert f'href="/sessions/{book_nook.pk}/"' in todo
    assert '<span class="row-todo" data-step="confirm">Confirm Bob Baker completed their challenge</span>' in todo
    assert '<span class="row-todo" data-step="accept_reschedule">Accept the new time</span>' in todo  # Jazz Cellar


TIME_FIELDS = ("scheduled_time", "created_at", "started_at", "running_since", "paused_at", "user1_checked_in_at",
               "user2_checked_in_at", "reschedule_time", "reschedule_proposed_at", "completed_at", "cancelled_at",
               "finished_at")


def days_pass(days: int) -> None:
    """As if the demo had been seeded ``days`` ago: every session's times move back."""
    shift = timedelta(days=days)
    WingmanSession.objects.update(**{field: F(field) - shift for field in TIME_FIELDS})


def test_a_run_days_later_refreshes_the_live_sessions(db):
    seed("--password", "demo-pass-123")
    users = {u.username: u for u in get_user_model().objects.all()}
    days_pass(3)
    # someone's own session in the demo match: not seed_demo's to touch
    own = services.session_schedule(user=users["alice"], match_id=demo_session("Market Hall").match_id,
                                    venue_name="Our own plan", scheduled_time=timezone.now() + timedelta(days=5),
                                    user1_challenge_id=ApproachChallenge.objects.first().pk,
                                    user2_challenge_id=ApproachChallenge.objects.first().pk)
    history = {s.pk: s.version for s in WingmanSession.objects.filter(status__in=["completed", "no_show", "cancelled"])}
    old_open = set(WingmanSession.objects.filter(status__in=["scheduled", "in_progress"]).exclude(pk=own.pk)
                   .values_list("pk", flat=True))
    assert len(old_open) == 6

    output = seed("--password", "demo-pass-123")
    assert "Refreshed the demo's current sessions relative to now (6 old ones that were still open withdrawn)" \
        in output

    now = timezone.now()
    for old in WingmanSession.objects.filter(pk__in=old_open):
        assert (old.status, old.cancelled_by_id, old.cancellation_reason, old.cancellation_penalty) == (
            "cancelled", None, "demo refreshed", 0)
        assert rules.allowed_actions(old, old.user1, now)["dispute"]["code"] == "not_disputable"
    assert {s.pk: s.version for s in WingmanSession.objects.filter(pk__in=history)} == history
    own.refresh_from_db()
    assert (own.status, own.version) == ("scheduled", 1)

    live = demo_session("Corner Coffee House", status="in_progress")
    assert near(live.started_at, now) and near(live.scheduled_time, now - timedelta(minutes=15))
    due = demo_session("The Book Nook", status="scheduled")
    assert near(due.scheduled_time, now - timedelta(minutes=20))
    assert near(demo_session("Market Hall", status="scheduled").scheduled_time, now + timedelta(days=1, hours=2))
    jazz = demo_session("Jazz Cellar", status="scheduled")
    assert rules.pending_reschedule(jazz, now) and jazz.reschedule_proposed_by.username == "bob"
    assert near(demo_session("Harbour Pub", status="in_progress").started_at, now)
    assert near(demo_session("Library Café", status="scheduled").scheduled_time, now + timedelta(days=2))
    services.session_confirm(session_id=due.pk, user=users["alice"])  # confirming works at once again

    for user in users.values():
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}, user.username
    limits = {p.user.username: rules.booking_limit(p) for p in UserProfile.objects.select_related("user")}
    assert limits["dave"] == 1 and limits["alice"] == limits["bob"] == 10

    # and a run right after leaves everything as it is
    before = snapshot_db()
    assert "exist already" in seed("--password", "demo-pass-123")
    assert snapshot_db() == before
