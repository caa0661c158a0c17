"""Shared fixtures, healthchecks style: alice and bob are matched, carol is an
outsider who must see nothing, dave is carol's buddy, mod is a moderator and
staff a plain staff member without the Moderators group."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone

from sessions_app.models import (
    ApproachChallenge,
    MatchStatus,
    ReputationLedger,
    SessionEvent,
    UserProfile,
    WingmanMatch,
    WingmanSession,
)

pytest_plugins = ["tests.reliability", "pytester"]

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (cached sessions, throttle counters)."""
    from django.core.cache import cache

    cache.clear()
    yield


def _user(username: str, display_name: str, tz: str = "UTC", **extra) -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.com", password=PASSWORD, **extra)
    UserProfile.objects.create(user=user, display_name=display_name, timezone=tz)
    return user


@pytest.fixture
def alice(db):
    return _user("alice", "Alice", "Europe/Berlin")


@pytest.fixture
def bob(db):
    return _user("bob", "Bob", "America/New_York")


@pytest.fixture
def carol(db):
    return _user("carol", "Carol")


@pytest.fixture
def dave(db):
    return _user("dave", "Dave")


@pytest.fixture
def mod(db):
    user = _user("mod", "Moderator Mo", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


@pytest.fixture
def staff(db):
    return _user("staff", "Plain Staff", is_staff=True)


@pytest.fixture
def easy_challenge(db):
    return ApproachChallenge.objects.create(
        title="Ask for a recommendation", description="Ask a stranger what to order.", difficulty="beginner",
        points=10,
    )


@pytest.fixture
def hard_challenge(db):
    return ApproachChallenge.objects.create(
        title="Start a group conversation", description="Join a group and introduce yourself.",
        difficulty="advanced", points=25,
    )


@pytest.fixture
def match(alice, bob):
    return WingmanMatch.objects.create(user1=alice, user2=bob, status=MatchStatus.ACCEPTED)


@pytest.fixture
def carol_match(carol, dave):
    return WingmanMatch.objects.create(user1=carol, user2=dave, status=MatchStatus.ACCEPTED)


@pytest.fixture
def make_session(match, easy_challenge, hard_challenge):
    """Create a session directly (bypassing the scheduling rules, e.g. in the past).

    user1 (alice) carries the easy challenge (10 points), user2 (bob) the
    hard one (25 points), unless overridden.
    """

    def make(*, starts_in=timedelta(hours=3), of_match=None, c1=None, c2=None, **fields):
        m = of_match or match
        c1, c2 = c1 or easy_challenge, c2 or hard_challenge
        values = dict(
            match=m,
            user1_id=m.user1_id,
            user2_id=m.user2_id,
            venue_name="The Blue Door",
            scheduled_time=timezone.now() + starts_in,
            **WingmanSession.snapshot_fields(c1, c2),
        )
        values.update(fields)
        return WingmanSession.objects.create(**values)

    return make


@pytest.fixture
def session(make_session):
    """alice + bob, scheduled three hours from now."""
    return make_session()


@pytest.fixture
def due_session(make_session):
    """alice + bob, scheduled time passed 20 minutes ago, nobody checked in."""
    return make_session(starts_in=-timedelta(minutes=20))


def snapshot_db() -> dict:
    """Everything a refused request must leave untouched."""
    return {
        "sessions": list(WingmanSession.objects.order_by("pk").values()),
        "events": SessionEvent.objects.count(),
        "ledger": list(ReputationLedger.objects.order_by("pk").values("user_id", "session_id", "reason", "points")),
        "profiles": list(UserProfile.objects.order_by("pk").values()),
        "matches": list(WingmanMatch.objects.order_by("pk").values()),
    }


@pytest.fixture
def unchanged(db):
    """Usage: with unchanged(): <refused request>  -- asserts the database did not change."""
    from contextlib import contextmanager

    @contextmanager
    def check():
        before = snapshot_db()
        yield
        assert snapshot_db() == before, "a refused request changed the database"

    return check


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def require_or_skip(condition: bool, why: str, env: str) -> None:
    """Skip, saying why; but fail when the environment says this must run (CI)."""
    if condition:
        return
    if os.environ.get(env) == "1":
        pytest.fail(f"{why} ({env}=1 says this test must run here)")
    pytest.skip(why)
