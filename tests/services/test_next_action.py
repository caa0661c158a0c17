"""rules.next_action: the one step that moves a session on for the viewer, from allowed_actions."""

from datetime import timedelta

from django.utils import timezone

from sessions_app import rules, services


def step(session, user):
    session.refresh_from_db()
    return rules.next_action(session, user, timezone.now())


def propose(session, user, days=3):
    services.session_reschedule_propose(session_id=session.pk, user=user,
                                        scheduled_time=timezone.now() + timedelta(days=days))


def test_well_ahead_it_waits_for_check_in(session, alice):
    found = step(session, alice)
    assert (found.kind, found.action) == ("wait_check_in", None)
    assert found.at == session.scheduled_time - rules.CHECK_IN_OPENS_BEFORE
    assert found.reason == "Check-in opens 30 minutes before the scheduled time."


def test_once_check_in_opens_it_is_check_in(make_session, alice):
    assert step(make_session(starts_in=timedelta(minutes=12)), alice) == rules.NextStep(kind="check_in",
                                                                                        action="check_in")


def test_after_check_in_it_is_confirming_the_buddy(make_session, alice, bob):
    s = make_session(starts_in=timedelta(minutes=12))
    services.session_check_in(session_id=s.pk, user=alice)
    assert step(s, alice).action == "confirm"
    assert step(s, bob).action == "check_in"  # bob is not there yet


def test_a_paused_session_is_resumed_first(make_session, alice):
    s = make_session(starts_in=-timedelta(minutes=5))
    services.session_check_in(session_id=s.pk, user=alice)
    services.session_pause(session_id=s.pk, user=alice)
    assert step(s, alice).action == "resume"


def test_after_confirming_it_waits_for_the_buddy(due_session, alice, bob):
    services.session_confirm(session_id=due_session.pk, user=alice)
    assert step(due_session, alice) == rules.NextStep(kind="wait_buddy_confirm")
    assert step(due_session, bob).action == "confirm"  # no longer checking in: the session is being confirmed


def test_the_buddys_new_time_is_answered_first(make_session, alice, bob):
    s = make_session(starts_in=timedelta(minutes=40))
    propose(s, bob)
    s.scheduled_time -= timedelta(minutes=15)  # check-in opens too; the answer still comes first
    s.save(update_fields=["scheduled_time"])
    assert step(s, alice).action == "accept_reschedule"
    assert step(s, bob).action == "check_in"


def test_the_proposer_waits_for_the_answer(session, alice, bob):
    propose(session, bob)
    assert step(session, bob) == rules.NextStep(kind="wait_reschedule_answer")


def test_a_final_session_or_an_outsider_has_no_step(due_session, alice, bob, carol):
    assert step(due_session, carol) is None
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    assert step(due_session, alice) is None


def test_an_action_refused_for_another_reason_is_said(make_session, alice):
    # alice runs one session, so she cannot check in to the next one
    running = make_session(starts_in=-timedelta(minutes=5), venue_name="Running")
    services.session_check_in(session_id=running.pk, user=alice)
    later = make_session(starts_in=timedelta(minutes=10))
    found = step(later, alice)
    assert (found.kind, found.action) == ("wait", None)
    assert found.reason == "You already have another session in progress; it must end first."


def test_it_agrees_with_allowed_actions(due_session, alice):
    now = timezone.now()
    allowed = rules.allowed_actions(due_session, alice, now)
    found = rules.next_action(due_session, alice, now, allowed)
    assert allowed[found.action]["allowed"]
