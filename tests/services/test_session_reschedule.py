"""Two-sided reschedule: propose (replacing), accept, decline, withdraw, expiry and the late penalty."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import rules, services
from sessions_app.errors import Conflict, NotParticipant, RuleViolation
from sessions_app.ical import sessions_calendar
from sessions_app.models import LedgerReason, ReputationLedger

from .conftest import events, fresh, profile


def _propose(session, user, *, hours=26, venue=None):
    return services.session_reschedule_propose(
        session_id=session.pk, user=user, scheduled_time=timezone.now() + timedelta(hours=hours), venue_name=venue,
    )


def test_it_stores_one_pending_proposal_and_bumps_the_version(session, alice):
    _propose(session, alice, venue="Green Park")
    row = fresh(session)
    assert row.reschedule_proposed_by_id == alice.pk
    assert row.reschedule_venue_name == "Green Park"
    assert row.reschedule_proposed_at is not None
    assert row.version == session.version + 1
    assert row.scheduled_time == session.scheduled_time  # nothing moves before the buddy accepts
    assert events(session) == [("reschedule_proposed", alice.pk)]


def test_a_newer_proposal_from_either_side_replaces_the_pending_one(session, alice, bob):
    _propose(session, alice, hours=26)
    _propose(session, bob, hours=30, venue="Harbour Bar")
    row = fresh(session)
    assert row.reschedule_proposed_by_id == bob.pk
    assert row.reschedule_venue_name == "Harbour Bar"
    assert row.version == session.version + 2
    assert row.events.order_by("id").last().data["replaced"] is True


def test_accepting_moves_the_session_and_the_calendar_sequence(session, alice, bob):
    _propose(session, alice, hours=26, venue="Green Park")
    proposed = fresh(session).reschedule_time
    before = fresh(session).version
    services.session_reschedule_accept(session_id=session.pk, user=bob)
    row = fresh(session)
    assert (row.scheduled_time, row.venue_name) == (proposed, "Green Park")
    assert row.reschedule_proposed_by_id is None and row.reschedule_time is None
    assert row.version == before + 1
    assert f"SEQUENCE:{row.version}" in sessions_calendar([row], now=timezone.now()).decode()
    assert events(session)[-1] == ("rescheduled", bob.pk)
    assert not ReputationLedger.objects.exists()  # proposed three hours ahead: not late


def test_without_a_venue_the_session_keeps_its_venue(session, alice, bob):
    _propose(session, alice)
    services.session_reschedule_accept(session_id=session.pk, user=bob)
    assert fresh(session).venue_name == "The Blue Door"


def test_a_late_proposal_costs_the_proposer_the_late_cancel_penalty_once(make_session, alice, bob):
    late = make_session(starts_in=timedelta(minutes=90))
    _propose(late, bob, hours=5)  # bob carries the 25-point challenge: ceil(25 / 2) = 13
    services.session_reschedule_accept(session_id=late.pk, user=alice)
    entry = ReputationLedger.objects.get()
    assert (entry.user_id, entry.reason, entry.points) == (bob.pk, LedgerReason.LATE_RESCHEDULE, -13)
    assert profile(bob).reputation == -13
    assert fresh(late).events.order_by("id").last().data["penalty"] == 13
    # The session is now 5 hours away; bob proposes late again after time passes: charged once only.
    late.refresh_from_db()
    late.scheduled_time = timezone.now() + timedelta(minutes=30)
    late.save(update_fields=["scheduled_time"])
    _propose(late, bob, hours=8)
    services.session_reschedule_accept(session_id=late.pk, user=alice)
    assert ReputationLedger.objects.count() == 1
    assert profile(bob).reputation == -13
    assert fresh(late).events.order_by("id").last().data["penalty"] == 0
    assert services.reputation_rebuild(user_id=bob.pk, fix=False) == {}


def test_declining_and_withdrawing_clear_the_proposal_with_a_new_version(session, alice, bob):
    _propose(session, alice)
    services.session_reschedule_decline(session_id=session.pk, user=bob)
    assert fresh(session).reschedule_proposed_by_id is None
    _propose(session, alice)
    services.session_reschedule_decline(session_id=session.pk, user=alice)
    row = fresh(session)
    assert row.reschedule_proposed_by_id is None
    assert row.version == session.version + 4
    assert [kind for kind, _ in events(session)] == [
        "reschedule_proposed", "reschedule_declined", "reschedule_proposed", "reschedule_withdrawn"]


def test_it_refuses_accepting_ones_own_proposal(session, alice, unchanged):
    _propose(session, alice)
    with unchanged(), pytest.raises(RuleViolation) as refused:
        services.session_reschedule_accept(session_id=session.pk, user=alice)
    assert refused.value.code == "own_proposal"


def test_it_refuses_answers_when_nothing_is_pending(session, bob, unchanged):
    for service in (services.session_reschedule_accept, services.session_reschedule_decline):
        with unchanged(), pytest.raises(Conflict) as refused:
            service(session_id=session.pk, user=bob)
        assert refused.value.code == "no_reschedule_pending"


def test_a_proposal_lapses_at_the_sessions_current_time(make_session, alice, bob, unchanged):
    soon = make_session(starts_in=timedelta(hours=1))
    _propose(soon, alice)
    soon.scheduled_time = timezone.now() - timedelta(minutes=1)  # the session's time has come
    soon.save(update_fields=["scheduled_time"])
    assert rules.pending_reschedule(fresh(soon), timezone.now()) is False
    with unchanged(), pytest.raises(RuleViolation) as refused:
        services.session_reschedule_accept(session_id=soon.pk, user=bob)
    assert refused.value.code == "reschedule_too_late"


def test_it_refuses_accepting_a_proposed_time_that_has_passed(session, alice, bob, unchanged):
    _propose(session, alice)
    session.refresh_from_db()
    session.reschedule_time = timezone.now() - timedelta(minutes=5)
    session.save(update_fields=["reschedule_time"])
    with unchanged(), pytest.raises(RuleViolation) as refused:
        services.session_reschedule_accept(session_id=session.pk, user=bob)
    assert refused.value.code == "proposed_time_passed"


@pytest.mark.parametrize(("hours", "code"), [(-1, "time_in_past"), (24 * 400, "time_too_far"), (3, None)])
def test_it_refuses_an_invalid_or_unchanged_time(session, alice, hours, code, unchanged):
    when = session.scheduled_time if code is None else timezone.now() + timedelta(hours=hours)
    with unchanged(), pytest.raises(RuleViolation) as refused:
        services.session_reschedule_propose(session_id=session.pk, user=alice, scheduled_time=when)
    assert refused.value.code == (code or "reschedule_no_change")


def test_it_refuses_outsiders_and_sessions_that_started(running_session, session, alice, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        _propose(session, carol)
    with unchanged(), pytest.raises(RuleViolation) as refused:
        _propose(running_session, alice)
    assert refused.value.code == "already_started"


def test_allowed_actions_show_who_may_answer(session, alice, bob):
    _propose(session, alice)
    now = timezone.now()
    mine, theirs = rules.allowed_actions(fresh(session), alice, now), rules.allowed_actions(fresh(session), bob, now)
    assert mine["accept_reschedule"]["code"] == "own_proposal"
    assert mine["decline_reschedule"]["allowed"] and theirs["decline_reschedule"]["allowed"]
    assert theirs["accept_reschedule"]["allowed"] and theirs["reschedule"]["allowed"]


def test_a_moderators_redecision_reverses_the_late_reschedule_penalty_too(make_session, alice, bob, mod):
    """A moderator's decision settles the session's whole account afresh (_REVERSALS in services/moderation.py)."""
    late = make_session(starts_in=timedelta(minutes=90))
    _propose(late, bob, hours=5)
    services.session_reschedule_accept(session_id=late.pk, user=alice)
    services.session_cancel(session_id=late.pk, user=alice, reason="ill")  # well ahead now: no penalty
    services.session_complete_by_moderator(session_id=late.pk, moderator=mod)
    ledger = sorted(ReputationLedger.objects.filter(user=bob).values_list("reason", "points"))
    assert ledger == [("completion", 25), ("late_reschedule", -13), ("late_reschedule_reversed", 13)]
    assert profile(bob).reputation == 25
    assert services.reputation_rebuild(user_id=bob.pk, fix=False) == {}
