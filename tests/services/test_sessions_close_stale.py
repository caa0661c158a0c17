"""stale_sessions_close: 48 hours after the time, open sessions are closed by the system."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import ReputationLedger, SessionEvent
from tests.conftest import snapshot_db
from tests.services.conftest import events, fresh, profile

STALE = -timedelta(hours=49)


def test_it_cancels_a_session_nobody_checked_in_to_as_expired(make_session, alice, bob):
    session = make_session(starts_in=STALE)
    assert services.stale_sessions_close() == {"cancelled": 1, "completed": 0}

    stored = fresh(session)
    assert stored.status == "cancelled"
    assert stored.cancellation_reason == "expired"
    assert stored.cancelled_by_id is None
    assert stored.cancellation_penalty == 0
    assert stored.version == session.version + 1
    assert events(stored) == [("expired", None)]
    assert not ReputationLedger.objects.exists()
    assert profile(alice).reputation == profile(bob).reputation == 0
    assert profile(alice).cancelled_sessions == profile(bob).cancelled_sessions == 1


def test_it_cancels_a_started_session_without_any_check_in(make_session):
    started = timezone.now() - timedelta(hours=49)
    session = make_session(starts_in=STALE, status="in_progress", started_at=started, running_since=started)
    assert services.stale_sessions_close() == {"cancelled": 1, "completed": 0}
    assert fresh(session).status == "cancelled"


def test_it_completes_a_checked_in_session_and_pays_only_the_confirmed(make_session, alice, bob):
    checked_in = timezone.now() - timedelta(hours=49)
    session = make_session(
        starts_in=STALE, status="in_progress", user1_checked_in_at=checked_in, started_at=checked_in,
        running_since=checked_in,
        user2_completed_confirmed_by_user1=True,  # alice confirmed bob; bob never confirmed alice
    )
    assert services.stale_sessions_close() == {"cancelled": 0, "completed": 1}

    stored = fresh(session)
    assert stored.status == "completed"
    assert stored.completed_at is not None
    assert events(stored) == [("expired", None)]
    assert profile(bob).reputation == 25 and profile(bob).completed_sessions == 1
    assert profile(alice).reputation == 0 and profile(alice).completed_sessions == 0
    ledger = ReputationLedger.objects.get()
    assert (ledger.user_id, ledger.reason, ledger.points) == (bob.pk, "completion", 25)


def test_a_checked_in_session_without_confirmations_completes_with_no_points(make_session, alice, bob):
    session = make_session(starts_in=STALE, user2_checked_in_at=timezone.now() - timedelta(hours=49))
    services.stale_sessions_close()
    assert fresh(session).status == "completed"
    assert not ReputationLedger.objects.exists()
    assert profile(alice).completed_sessions == profile(bob).completed_sessions == 0


def test_running_it_twice_changes_nothing_the_second_time(make_session):
    make_session(starts_in=STALE)
    make_session(starts_in=STALE, user1_checked_in_at=timezone.now() - timedelta(hours=49),
                 user1_completed_confirmed_by_user2=True)
    assert services.stale_sessions_close() == {"cancelled": 1, "completed": 1}
    before = snapshot_db()
    assert services.stale_sessions_close() == {"cancelled": 0, "completed": 0}
    assert snapshot_db() == before
    assert SessionEvent.objects.filter(kind="expired").count() == 2


@pytest.mark.parametrize("hours_ago", [47, 1])
def test_it_leaves_sessions_younger_than_48_hours(make_session, unchanged, hours_ago):
    make_session(starts_in=-timedelta(hours=hours_ago))
    with unchanged():
        assert services.stale_sessions_close() == {"cancelled": 0, "completed": 0}


def test_it_leaves_final_sessions_alone(make_session, unchanged):
    make_session(starts_in=STALE, status="completed", completed_at=timezone.now())
    make_session(starts_in=STALE, status="cancelled", cancellation_reason="rain")
    make_session(starts_in=STALE, status="no_show")
    with unchanged():
        assert services.stale_sessions_close() == {"cancelled": 0, "completed": 0}


def test_it_takes_now_as_an_argument(make_session):
    session = make_session(starts_in=timedelta(hours=1))
    assert services.stale_sessions_close(now=timezone.now() + timedelta(hours=50)) == {"cancelled": 1, "completed": 0}
    assert fresh(session).status == "cancelled"
