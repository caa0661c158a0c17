"""Helpers shared by the service tests: a second match for alice, profile and event look-ups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import MatchStatus, SessionEvent, UserProfile, WingmanMatch, WingmanSession


@pytest.fixture
def alice_dave_match(alice, dave):
    """A second accepted match for alice, so she can have two sessions at once."""
    return WingmanMatch.objects.create(user1=alice, user2=dave, status=MatchStatus.ACCEPTED)


@pytest.fixture
def running_session(make_session, alice):
    """alice + bob, started ten minutes ago when alice checked in; bob has not come yet."""
    now = timezone.now()
    return make_session(
        starts_in=-timedelta(minutes=20),
        status="in_progress",
        user1_checked_in_at=now - timedelta(minutes=10),
        started_at=now - timedelta(minutes=10),
        running_since=now - timedelta(minutes=10),
    )


def profile(user) -> UserProfile:
    return UserProfile.objects.get(pk=user.pk)


def events(session) -> list[tuple[str, int | None]]:
    """(kind, actor id) of each audit event of the session, oldest first."""
    return list(SessionEvent.objects.filter(session=session).order_by("id").values_list("kind", "actor_id"))


def fresh(session) -> WingmanSession:
    return WingmanSession.objects.get(pk=session.pk)


FINAL_STATES = [
    {"status": "completed", "completed_at": timezone.now()},
    {"status": "cancelled", "cancellation_reason": "rain"},
    {"status": "no_show"},
]
