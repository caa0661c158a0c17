"""session_pause / session_resume: only in progress; active time excludes pauses and is reported on completion."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import Conflict, NotParticipant, RuleViolation
from sessions_app.models import WingmanSession
from tests.services.conftest import FINAL_STATES, events, fresh, profile


def test_it_pauses_and_keeps_the_active_time(running_session, alice):
    services.session_pause(session_id=running_session.pk, user=alice)

    stored = fresh(running_session)
    assert stored.status == "in_progress"
    assert stored.paused_at is not None
    assert stored.running_since is None
    assert 600 <= stored.active_seconds <= 605  # ran for ten minutes
    assert stored.version == running_session.version + 1
    assert events(stored) == [("paused", alice.pk)]


def test_it_resumes_and_does_not_count_the_pause(running_session, alice, bob):
    services.session_pause(session_id=running_session.pk, user=alice)
    paused_at = timezone.now() - timedelta(minutes=5)
    WingmanSession.objects.filter(pk=running_session.pk).update(paused_at=paused_at)
    services.session_resume(session_id=running_session.pk, user=bob)

    stored = fresh(running_session)
    assert stored.paused_at is None
    assert stored.running_since is not None
    assert 600 <= stored.active_seconds <= 605
    assert stored.version == running_session.version + 2
    assert events(stored) == [("paused", alice.pk), ("resumed", bob.pk)]
    resumed = stored.events.get(kind="resumed")
    assert 300 <= resumed.data["paused_seconds"] <= 305


def test_it_reports_the_active_duration_on_completion(running_session, alice, bob):
    services.session_pause(session_id=running_session.pk, user=alice)
    # A pause of an hour must not count as active time.
    WingmanSession.objects.filter(pk=running_session.pk).update(paused_at=timezone.now() - timedelta(hours=1))
    services.session_resume(session_id=running_session.pk, user=alice)
    services.session_confirm(session_id=running_session.pk, user=alice)
    services.session_confirm(session_id=running_session.pk, user=bob)

    stored = fresh(running_session)
    assert stored.status == "completed"
    assert 600 <= stored.active_seconds <= 610
    assert stored.running_since is None and stored.paused_at is None
    completed = stored.events.get(kind="completed")
    assert completed.data["active_seconds"] == stored.active_seconds
    assert profile(alice).total_active_seconds == stored.active_seconds
    assert profile(bob).total_active_seconds == stored.active_seconds


def test_it_completes_a_paused_session_without_counting_the_pause(running_session, alice, bob):
    services.session_pause(session_id=running_session.pk, user=alice)
    WingmanSession.objects.filter(pk=running_session.pk).update(paused_at=timezone.now() - timedelta(hours=1))
    services.session_confirm(session_id=running_session.pk, user=alice)
    services.session_confirm(session_id=running_session.pk, user=bob)
    assert 600 <= fresh(running_session).active_seconds <= 605


def test_it_refuses_to_pause_a_scheduled_session(due_session, alice, unchanged):
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_pause(session_id=due_session.pk, user=alice)
    assert refusal.value.code == "not_in_progress"


def test_it_refuses_to_resume_a_scheduled_session(due_session, alice, unchanged):
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_resume(session_id=due_session.pk, user=alice)
    assert refusal.value.code == "not_in_progress"


def test_it_refuses_to_pause_twice(running_session, alice, bob, unchanged):
    services.session_pause(session_id=running_session.pk, user=alice)
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_pause(session_id=running_session.pk, user=bob)
    assert refusal.value.code == "already_paused"


def test_it_refuses_to_resume_a_running_session(running_session, alice, unchanged):
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_resume(session_id=running_session.pk, user=alice)
    assert refusal.value.code == "not_paused"


@pytest.mark.parametrize("action", ["session_pause", "session_resume"])
def test_it_refuses_an_outsider(running_session, carol, unchanged, action):
    with unchanged(), pytest.raises(NotParticipant):
        getattr(services, action)(session_id=running_session.pk, user=carol)


@pytest.mark.parametrize("action", ["session_pause", "session_resume"])
@pytest.mark.parametrize("final", FINAL_STATES, ids=lambda f: f["status"])
def test_it_refuses_a_final_session(make_session, alice, unchanged, final, action):
    session = make_session(starts_in=-timedelta(hours=1), started_at=timezone.now(), **final)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        getattr(services, action)(session_id=session.pk, user=alice)
    assert refusal.value.code == "session_final"
