"""The profile's running session: set when a session starts, cleared by every way it ends."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import WingmanSession
from tests.services.conftest import profile


def running_of(user):
    return profile(user).running_session_id


def test_a_check_in_that_starts_the_session_marks_both(due_session, alice, bob):
    services.session_check_in(session_id=due_session.pk, user=alice)
    assert running_of(alice) == running_of(bob) == due_session.pk


def test_an_explicit_start_marks_both(due_session, alice, bob):
    services.session_start(session_id=due_session.pk, user=bob)
    assert running_of(alice) == running_of(bob) == due_session.pk


def test_completion_frees_both(running_session, alice, bob):
    services.session_confirm(session_id=running_session.pk, user=alice)
    services.session_confirm(session_id=running_session.pk, user=bob)
    assert running_of(alice) is None and running_of(bob) is None


def test_a_no_show_frees_both(running_session, alice, bob):
    WingmanSession.objects.filter(pk=running_session.pk).update(scheduled_time=timezone.now() - timedelta(hours=1))
    services.session_report_no_show(session_id=running_session.pk, user=alice)
    assert running_of(alice) is None and running_of(bob) is None


def test_a_moderators_cancel_frees_both(running_session, mod, alice, bob):
    services.session_cancel_by_moderator(session_id=running_session.pk, moderator=mod, reason="Venue closed")
    assert running_of(alice) is None and running_of(bob) is None


@pytest.mark.parametrize("checked_in", [False, True])
def test_closing_a_stale_session_frees_both(make_session, alice, bob, checked_in):
    now = timezone.now()
    stale = make_session(starts_in=-timedelta(hours=50), status="in_progress", started_at=now - timedelta(hours=50),
                         user1_checked_in_at=(now - timedelta(hours=50)) if checked_in else None)
    services.stale_sessions_close()
    assert running_of(alice) is None and running_of(bob) is None
    assert WingmanSession.objects.get(pk=stale.pk).status == ("completed" if checked_in else "cancelled")


def test_after_the_end_the_next_session_can_start(running_session, make_session, alice, bob):
    services.session_confirm(session_id=running_session.pk, user=alice)
    services.session_confirm(session_id=running_session.pk, user=bob)
    following = make_session(starts_in=timedelta(minutes=5))
    services.session_start(session_id=following.pk, user=alice)
    assert running_of(alice) == following.pk
