"""allowed_actions and reputation_preview: what pages and API show, from the very rules the services apply."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import rules

ACTIONS = {"check_in", "start", "pause", "resume", "confirm", "cancel", "no_show", "edit_notes",
           "reschedule", "accept_reschedule", "decline_reschedule", "dispute"}


def allowed(session, user) -> set:
    verdicts = rules.allowed_actions(session, user, timezone.now())
    return {name for name, verdict in verdicts.items() if verdict["allowed"]}


def test_an_outsider_may_do_nothing(due_session, carol):
    verdicts = rules.allowed_actions(due_session, carol, timezone.now())
    assert set(verdicts) == ACTIONS
    assert {v["code"] for v in verdicts.values()} == {"not_participant"}


def test_well_ahead_only_cancel_notes_and_reschedule(session, alice):
    assert allowed(session, alice) == {"cancel", "edit_notes", "reschedule"}
    verdict = rules.allowed_actions(session, alice, timezone.now())["check_in"]
    assert verdict == {"allowed": False, "code": "check_in_not_open", "reason": verdict["reason"]}
    assert verdict["reason"]


def test_once_due(due_session, alice):
    assert allowed(due_session, alice) == {"check_in", "start", "confirm", "cancel", "edit_notes"}


def test_in_progress(running_session, alice, bob):
    assert allowed(running_session, alice) == {"pause", "confirm", "no_show", "edit_notes"}
    assert allowed(running_session, bob) == {"check_in", "pause", "confirm", "edit_notes"}


@pytest.mark.parametrize("status", ["completed", "cancelled", "no_show"])
def test_final_sessions_allow_nothing(make_session, alice, status):
    session = make_session(starts_in=-timedelta(hours=1), status=status, completed_at=timezone.now())
    assert allowed(session, alice) == set()


def test_the_preview_follows_the_outcome(make_session, alice, bob):
    now = timezone.now()
    assert rules.reputation_preview(make_session(), now) == {"user1_delta": 10, "user2_delta": 25}
    done = make_session(status="completed", completed_at=now, user1_completed_confirmed_by_user2=True)
    assert rules.reputation_preview(done, now) == {"user1_delta": 10, "user2_delta": 0}
    late = make_session(status="cancelled", cancelled_by=bob, cancellation_penalty=13)
    assert rules.reputation_preview(late, now) == {"user1_delta": 0, "user2_delta": -13}
    absent = make_session(status="no_show", no_show_user=alice)
    assert rules.reputation_preview(absent, now) == {"user1_delta": -10, "user2_delta": 0}


@pytest.mark.parametrize("points, penalty", [(1, 1), (10, 5), (25, 13), (99, 50), (100, 50)])
def test_the_late_cancel_penalty_is_half_rounded_up(make_session, points, penalty):
    session = make_session(starts_in=timedelta(minutes=30), user1_challenge_points=points)
    assert rules.cancel_penalty(session, "user1", timezone.now()) == penalty
    assert rules.cancel_penalty(session, "user1", timezone.now() - timedelta(hours=2)) == 0


@pytest.fixture
def alice_elsewhere(make_session, alice, dave):
    """alice is in progress in a session with dave."""
    from sessions_app.models import WingmanMatch

    with_dave = WingmanMatch.objects.create(user1=alice, user2=dave, status="accepted")
    return make_session(of_match=with_dave, starts_in=-timedelta(minutes=10), status="in_progress",
                        started_at=timezone.now(), running_since=timezone.now())


def test_a_participant_running_elsewhere_blocks_starting_for_both(due_session, alice_elsewhere, alice, bob):
    for viewer, reason in ((alice, "You already have"), (bob, "Your buddy already has")):
        verdicts = rules.allowed_actions(due_session, viewer, timezone.now())
        for action in ("check_in", "start"):
            assert verdicts[action]["allowed"] is False
            assert verdicts[action]["code"] == "another_session_in_progress"
            assert verdicts[action]["reason"].startswith(reason)
        assert verdicts["confirm"]["allowed"] is True


def test_the_running_session_itself_does_not_block_the_second_check_in(running_session, bob):
    assert rules.allowed_actions(running_session, bob, timezone.now())["check_in"]["allowed"] is True


def test_messages_name_the_constants(session, alice):
    check_in = rules.allowed_actions(session, alice, timezone.now())["check_in"]
    assert rules.minutes(rules.CHECK_IN_OPENS_BEFORE) in check_in["reason"]
    assert rules.minutes(timedelta(minutes=1)) == "1 minute"
