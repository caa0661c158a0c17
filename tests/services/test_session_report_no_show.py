"""session_report_no_show: a checked-in participant, 15 minutes after the time, buddy absent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import NotParticipant, RuleViolation
from sessions_app.models import ReputationLedger
from tests.services.conftest import FINAL_STATES, events, fresh, profile


@pytest.fixture
def waiting(make_session):
    """alice checked in; bob has not come; scheduled 16 minutes ago."""

    def make(minutes_ago=16, **fields):
        now = timezone.now()
        values = dict(
            status="in_progress",
            user1_checked_in_at=now - timedelta(minutes=minutes_ago + 5),
            started_at=now - timedelta(minutes=minutes_ago + 5),
            running_since=now - timedelta(minutes=minutes_ago + 5),
        )
        values.update(fields)
        return make_session(starts_in=-timedelta(minutes=minutes_ago), **values)

    return make


def test_it_marks_the_absent_buddy(waiting, alice, bob):
    session = waiting()
    services.session_report_no_show(session_id=session.pk, user=alice)

    stored = fresh(session)
    assert stored.status == "no_show"
    assert stored.no_show_user_id == bob.pk
    assert stored.running_since is None
    assert stored.version == session.version + 1
    assert events(stored) == [("no_show", alice.pk)]
    assert stored.events.get().data["absent"] == "user2"
    ledger = ReputationLedger.objects.get()
    assert (ledger.user_id, ledger.reason, ledger.points) == (bob.pk, "no_show", -25)
    assert profile(bob).reputation == -25 and profile(bob).no_show_count == 1
    assert profile(alice).reputation == 0 and profile(alice).no_show_count == 0
    assert profile(alice).no_show_sessions == profile(bob).no_show_sessions == 1


def test_it_accepts_naming_the_buddy(waiting, alice, bob):
    session = waiting()
    services.session_report_no_show(session_id=session.pk, user=alice, absent_user_id=bob.pk)
    assert fresh(session).no_show_user_id == bob.pk


def test_it_refuses_within_the_grace_period(waiting, alice, unchanged):
    session = waiting(minutes_ago=14)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_report_no_show(session_id=session.pk, user=alice)
    assert refusal.value.code == "no_show_too_early"


def test_it_refuses_a_reporter_who_did_not_check_in(waiting, bob, unchanged):
    session = waiting()
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_report_no_show(session_id=session.pk, user=bob)
    assert refusal.value.code == "reporter_not_checked_in"


def test_it_refuses_when_nobody_checked_in(make_session, alice, unchanged):
    session = make_session(starts_in=-timedelta(hours=1))
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_report_no_show(session_id=session.pk, user=alice)
    assert refusal.value.code == "reporter_not_checked_in"


def test_it_refuses_when_the_buddy_checked_in(waiting, alice, unchanged):
    session = waiting(user2_checked_in_at=timezone.now())
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_report_no_show(session_id=session.pk, user=alice)
    assert refusal.value.code == "buddy_checked_in"


def test_it_refuses_reporting_oneself(waiting, alice, unchanged):
    session = waiting()
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_report_no_show(session_id=session.pk, user=alice, absent_user_id=alice.pk)
    assert refusal.value.code == "no_show_not_buddy"


def test_it_refuses_an_outsider(waiting, carol, unchanged):
    session = waiting()
    with unchanged(), pytest.raises(NotParticipant):
        services.session_report_no_show(session_id=session.pk, user=carol)


@pytest.mark.parametrize("final", FINAL_STATES, ids=lambda f: f["status"])
def test_it_refuses_a_final_session(waiting, alice, unchanged, final):
    session = waiting(**final)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_report_no_show(session_id=session.pk, user=alice)
    assert refusal.value.code == "session_final"


def test_it_refuses_a_second_report(waiting, alice, unchanged):
    session = waiting()
    services.session_report_no_show(session_id=session.pk, user=alice)
    with unchanged(), pytest.raises(RuleViolation) as refusal:
        services.session_report_no_show(session_id=session.pk, user=alice)
    assert refusal.value.code == "session_final"
