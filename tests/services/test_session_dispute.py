"""Disputes: each participant contests a final outcome once, within 72 hours; a moderator upholds or
overturns it through the moderators' own decision, so the ledger moves exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import rules, services
from sessions_app.errors import Conflict, InvalidInput, NotParticipant, RuleViolation
from sessions_app.models import Dispute, ReputationLedger, WingmanSession

from .conftest import events, fresh, profile


@pytest.fixture
def no_show(due_session, alice, bob):
    """alice checked in; bob never came and was reported absent (bob lost 25 points)."""
    WingmanSession.objects.filter(pk=due_session.pk).update(scheduled_time=timezone.now() - timedelta(minutes=30))
    services.session_check_in(session_id=due_session.pk, user=alice)
    services.session_report_no_show(session_id=due_session.pk, user=alice)
    return fresh(due_session)


def test_it_opens_a_dispute_and_the_outcome_stands(no_show, bob):
    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there, by the door.")
    row = fresh(no_show)
    dispute = Dispute.objects.get()
    assert (dispute.opened_by, dispute.status, dispute.disputed_status) == (bob, "open", "no_show")
    assert row.current_dispute_id == dispute.pk and row.user2_disputed and not row.user1_disputed
    assert row.status == "no_show" and row.version == no_show.version + 1
    assert events(no_show)[-1] == ("dispute_opened", bob.pk)


def test_the_finishing_time_is_recorded_for_every_ending(no_show, session, alice):
    assert no_show.finished_at is not None
    services.session_cancel(session_id=session.pk, user=alice, reason="ill")
    assert fresh(session).finished_at == fresh(session).cancelled_at


def test_while_one_dispute_is_open_the_buddy_cannot_open_another(no_show, alice, bob, unchanged):
    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there")
    with unchanged(), pytest.raises(Conflict) as refused:
        services.session_dispute(session_id=no_show.pk, user=alice, reason="He was not")
    assert refused.value.code == "dispute_open"


def test_each_participant_disputes_once(no_show, bob, mod, unchanged):
    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there")
    services.dispute_resolve(dispute_id=Dispute.objects.get().pk, moderator=mod, decision="uphold", note="Checked.")
    with unchanged(), pytest.raises(Conflict) as refused:
        services.session_dispute(session_id=no_show.pk, user=bob, reason="Again")
    assert refused.value.code == "already_disputed"


def test_it_refuses_after_72_hours_and_on_open_sessions(no_show, session, bob, unchanged):
    WingmanSession.objects.filter(pk=no_show.pk).update(finished_at=timezone.now() - timedelta(hours=72, minutes=1))
    with unchanged(), pytest.raises(RuleViolation) as refused:
        services.session_dispute(session_id=no_show.pk, user=bob, reason="late")
    assert refused.value.code == "dispute_window_closed"
    with unchanged(), pytest.raises(RuleViolation) as refused:
        services.session_dispute(session_id=session.pk, user=bob, reason="early")
    assert refused.value.code == "session_not_final"


def test_sessions_cancelled_by_a_block_cannot_be_disputed(session, match, alice, bob, unchanged):
    services.match_block(match_id=match.pk, user=alice)
    with unchanged(), pytest.raises(RuleViolation) as refused:
        services.session_dispute(session_id=session.pk, user=bob, reason="unfair")
    assert refused.value.code == "not_disputable"
    assert rules.allowed_actions(fresh(session), bob, timezone.now())["dispute"]["code"] == "not_disputable"


def test_outsiders_and_empty_reasons_are_refused(no_show, bob, carol, unchanged):
    with unchanged(), pytest.raises(NotParticipant):
        services.session_dispute(session_id=no_show.pk, user=carol, reason="me too")
    with unchanged(), pytest.raises(InvalidInput):
        services.session_dispute(session_id=no_show.pk, user=bob, reason="  ")


def test_upholding_keeps_the_outcome_and_the_ledger(no_show, bob, mod):
    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there")
    before = fresh(no_show).version
    dispute = services.dispute_resolve(dispute_id=Dispute.objects.get().pk, moderator=mod, decision="uphold",
                                       note="The venue confirms he never came.")
    assert (dispute.status, dispute.resolved_by, dispute.resolution_note) == (
        "upheld", mod, "The venue confirms he never came.")
    row = fresh(no_show)
    assert row.status == "no_show" and row.version == before + 1
    assert list(ReputationLedger.objects.values_list("reason", "points")) == [("no_show", -25)]
    assert events(no_show)[-1] == ("dispute_resolved", mod.pk)


def test_overturning_goes_through_the_moderator_decision_once(no_show, alice, bob, mod, unchanged):
    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there")
    dispute_id = Dispute.objects.get().pk
    services.dispute_resolve(dispute_id=dispute_id, moderator=mod, decision="completed", note="Photos show both.")
    row = fresh(no_show)
    assert row.status == "completed" and row.no_show_user_id is None
    assert Dispute.objects.get().status == "overturned"
    ledger = sorted(ReputationLedger.objects.values_list("user__username", "reason", "points"))
    assert ledger == [("alice", "completion", 10), ("bob", "completion", 25), ("bob", "no_show", -25),
                      ("bob", "no_show_reversed", 25)]
    assert profile(bob).reputation == 25 and profile(bob).no_show_count == 0
    for user in (alice, bob):
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}
    with unchanged(), pytest.raises(Conflict) as refused:
        services.dispute_resolve(dispute_id=dispute_id, moderator=mod, decision="uphold", note="again")
    assert refused.value.code == "dispute_resolved"


def test_a_refused_overturn_changes_nothing(no_show, bob, mod, unchanged):
    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there")
    dispute_id = Dispute.objects.get().pk
    with unchanged(), pytest.raises(Conflict) as refused:
        services.dispute_resolve(dispute_id=dispute_id, moderator=mod, decision="no_show", note="same",
                                 absent_user_id=bob.pk)
    assert refused.value.code == "already_in_state"
    with unchanged(), pytest.raises(NotParticipant):
        services.dispute_resolve(dispute_id=dispute_id, moderator=bob, decision="uphold", note="mine")
    with unchanged(), pytest.raises(InvalidInput):
        services.dispute_resolve(dispute_id=dispute_id, moderator=mod, decision="maybe", note="hm")


def ledger_rows(session) -> list[tuple]:
    rows = ReputationLedger.objects.filter(session=session).order_by("id")
    return list(rows.values_list("user__username", "reason", "points", "decision"))


def test_an_overturn_changes_an_outcome_a_moderator_already_changed(no_show, alice, bob, mod, unchanged):
    """bob's no-show, then a moderator's own completion; alice disputes it, the no-show is restored;
    bob disputes that, and it is overturned again: each outcome's rows are written and reversed once."""
    services.session_complete_by_moderator(session_id=no_show.pk, moderator=mod)
    services.session_dispute(session_id=no_show.pk, user=alice, reason="He never came; I was alone.")
    services.dispute_resolve(dispute_id=Dispute.objects.get(opened_by=alice).pk, moderator=mod,
                             decision="no_show", absent_user_id=bob.pk, note="The venue confirms it.")

    row = fresh(no_show)
    assert (row.status, row.no_show_user_id, row.redecisions) == ("no_show", bob.pk, 2)
    assert Dispute.objects.get(opened_by=alice).status == "overturned"
    assert ledger_rows(no_show) == [
        ("bob", "no_show", -25, 0), ("bob", "no_show_reversed", 25, 0),
        ("alice", "completion", 10, 1), ("bob", "completion", 25, 1),
        ("alice", "completion_reversed", -10, 1), ("bob", "completion_reversed", -25, 1),
        ("bob", "no_show", -25, 2),
    ]
    assert (profile(alice).reputation, profile(alice).completed_sessions, profile(alice).streak_weeks) == (0, 0, 0)
    assert (profile(bob).reputation, profile(bob).completed_sessions, profile(bob).no_show_count) == (-25, 0, 1)
    assert profile(alice).no_show_sessions == profile(bob).no_show_sessions == 1
    assert events(no_show)[-2:] == [("no_show", mod.pk), ("dispute_resolved", mod.pk)]
    assert row.events.filter(kind="no_show").last().data["overturns"] == Dispute.objects.get(opened_by=alice).pk
    for user in (alice, bob):
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}

    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there after all.")
    services.dispute_resolve(dispute_id=Dispute.objects.get(opened_by=bob).pk, moderator=mod,
                             decision="completed", note="New photos show both.")
    assert (fresh(no_show).status, fresh(no_show).redecisions) == ("completed", 3)
    assert ledger_rows(no_show)[7:] == [
        ("bob", "no_show_reversed", 25, 2), ("alice", "completion", 10, 3), ("bob", "completion", 25, 3),
    ]
    assert (profile(alice).reputation, profile(alice).completed_sessions, profile(alice).streak_weeks) == (10, 1, 1)
    assert (profile(bob).reputation, profile(bob).completed_sessions, profile(bob).no_show_count) == (25, 1, 0)
    assert profile(alice).no_show_sessions == profile(bob).no_show_sessions == 0
    for user in (alice, bob):
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}

    # A moderator's own re-decision stays limited to one, also after overturns.
    with unchanged(), pytest.raises(Conflict) as refused:
        services.session_cancel_by_moderator(session_id=no_show.pk, moderator=mod, reason="Changed my mind")
    assert refused.value.code == "already_redecided"


def test_an_overturn_of_an_outcome_nobody_changed_before_uses_up_the_moderators_own_re_decision(
        no_show, alice, bob, mod, unchanged):
    services.session_dispute(session_id=no_show.pk, user=bob, reason="I was there")
    services.dispute_resolve(dispute_id=Dispute.objects.get().pk, moderator=mod, decision="cancelled",
                             note="Nobody can tell.")
    assert fresh(no_show).redecisions == 1
    with unchanged(), pytest.raises(Conflict) as refused:
        services.session_mark_no_show(session_id=no_show.pk, moderator=mod, absent_user_id=bob.pk)
    assert refused.value.code == "already_redecided"
