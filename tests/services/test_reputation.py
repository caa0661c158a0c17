"""Exactly-once reputation: counters move only with a ledger row; rebuild finds and fixes drift."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import Conflict, NotFound
from sessions_app.models import ReputationLedger, UserProfile
from tests.services.conftest import profile


@pytest.fixture
def completed(due_session, alice, bob):
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    return due_session


@pytest.fixture
def lifecycle(completed, make_session, alice, bob):
    """One session of each ending: completed, late-cancelled by bob, bob a no-show."""
    late = make_session(starts_in=timedelta(hours=1))
    services.session_cancel(session_id=late.pk, user=bob, reason="Late")
    now = timezone.now()
    absent = make_session(starts_in=-timedelta(minutes=30), status="in_progress", user1_checked_in_at=now,
                          started_at=now, running_since=now)
    services.session_report_no_show(session_id=absent.pk, user=alice)
    return completed


def test_award_writes_one_row_and_moves_the_counters(session, alice):
    with transaction.atomic():
        mine = UserProfile.objects.select_for_update().get(pk=alice.pk)
        assert services.reputation_award(user_id=mine.pk, session=session, reason="completion", points=10) is True
    assert profile(alice).reputation == 10
    assert profile(alice).completed_sessions == 1
    assert ReputationLedger.objects.filter(user=alice, session=session).count() == 1


def test_award_twice_adds_nothing(completed, alice, unchanged):
    with unchanged(), transaction.atomic():
        mine = UserProfile.objects.select_for_update().get(pk=alice.pk)
        assert services.reputation_award(user_id=mine.pk, session=completed, reason="completion", points=10) is False
    assert profile(alice).reputation == 10 and profile(alice).completed_sessions == 1


def test_a_no_show_row_moves_the_no_show_count(session, bob):
    with transaction.atomic():
        theirs = UserProfile.objects.select_for_update().get(pk=bob.pk)
        services.reputation_award(user_id=theirs.pk, session=session, reason="no_show", points=-25)
    assert (profile(bob).reputation, profile(bob).no_show_count, profile(bob).completed_sessions) == (-25, 1, 0)


def test_replaying_a_completion_adds_nothing(completed, alice, bob, unchanged):
    with unchanged():
        for user in (alice, bob):
            with pytest.raises(Conflict):
                services.session_confirm(session_id=completed.pk, user=user)
        assert services.stale_sessions_close(now=timezone.now() + timedelta(days=10)) == {
            "cancelled": 0, "completed": 0,
        }
    assert ReputationLedger.objects.filter(session=completed).count() == 2


def test_rebuild_finds_no_drift_after_a_lifecycle(lifecycle, alice, bob, unchanged):
    assert (profile(alice).reputation, profile(alice).completed_sessions, profile(alice).no_show_count) == (10, 1, 0)
    assert (profile(bob).reputation, profile(bob).completed_sessions, profile(bob).no_show_count) == (
        25 - 13 - 25, 1, 1,
    )
    with unchanged():
        assert services.reputation_rebuild(user_id=alice.pk) == {}
        assert services.reputation_rebuild(user_id=bob.pk) == {}


def test_rebuild_reports_and_fixes_drift(lifecycle, bob):
    UserProfile.objects.filter(pk=bob.pk).update(reputation=1000, completed_sessions=7, no_show_count=0)
    assert services.reputation_rebuild(user_id=bob.pk) == {
        "reputation": (1000, -13), "completed_sessions": (7, 1), "no_show_count": (0, 1),
    }
    assert (profile(bob).reputation, profile(bob).completed_sessions, profile(bob).no_show_count) == (-13, 1, 1)
    assert services.reputation_rebuild(user_id=bob.pk) == {}


def test_rebuild_without_fix_only_reports(lifecycle, alice):
    UserProfile.objects.filter(pk=alice.pk).update(reputation=3)
    assert services.reputation_rebuild(user_id=alice.pk, fix=False) == {"reputation": (3, 10)}
    assert profile(alice).reputation == 3


def test_rebuild_of_a_user_without_profile_creates_it_at_zero(db, django_user_model):
    ghost = django_user_model.objects.create_user(username="ghost")
    assert services.reputation_rebuild(user_id=ghost.pk) == {}
    assert profile(ghost).reputation == 0


def test_rebuild_of_an_unknown_user_is_refused(db):
    with pytest.raises(NotFound):
        services.reputation_rebuild(user_id=987654)


def test_rebuild_recounts_every_counter_from_the_history(lifecycle, alice, bob):
    UserProfile.objects.filter(pk=alice.pk).update(total_sessions=40, cancelled_sessions=0, no_show_sessions=7,
                                                   total_active_seconds=999, streak_weeks=9)
    drift = services.reputation_rebuild(user_id=alice.pk)
    assert drift["total_sessions"] == (40, 3)
    assert drift["cancelled_sessions"] == (0, 1)
    assert drift["no_show_sessions"] == (7, 1)
    assert drift["total_active_seconds"][0] == 999
    assert drift["streak_weeks"] == (9, 1)
    assert services.reputation_rebuild(user_id=alice.pk) == {}
    assert services.reputation_rebuild(user_id=bob.pk) == {}


def test_undoing_an_outcome_over_drifted_counters_is_refused_with_advice(completed, mod, alice, unchanged):
    UserProfile.objects.filter(pk=alice.pk).update(completed_sessions=0)
    with unchanged(), pytest.raises(Conflict) as refusal:
        services.session_cancel_by_moderator(session_id=completed.pk, moderator=mod, reason="Dispute")
    assert refusal.value.code == "counter_drift"
    assert "rebuild_reputation" in refusal.value.message


def test_reversing_a_completion_takes_back_its_streak_week(completed, mod, alice, bob):
    assert profile(alice).streak_weeks == 1
    services.session_cancel_by_moderator(session_id=completed.pk, moderator=mod, reason="Fake confirmations")
    assert (profile(alice).streak_weeks, profile(alice).streak_last_week) == (0, None)
    assert services.reputation_rebuild(user_id=alice.pk) == {}
