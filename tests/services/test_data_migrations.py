"""The data steps of migrations, run against today's models (they only use fields both have)."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import Conflict
from sessions_app.models import Dispute, ReputationLedger, SessionEvent, UserProfile, WingmanSession

from .conftest import fresh, profile
from .test_session_dispute import no_show  # noqa: F401 (fixture)

ledger_decisions = importlib.import_module("sessions_app.migrations.0012_ledger_decisions")


def run(step) -> None:
    """Run a migration's data step as migrate would, after the rows this test wrote are checked (on
    PostgreSQL an ALTER TABLE waits for no pending foreign-key checks, which a migration has none of)."""
    with connection.schema_editor() as editor:
        if connection.vendor == "postgresql":
            editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        step(apps, editor)


def test_sessions_re_decided_before_numbering_get_their_count_and_standing_rows(no_show, alice, bob, mod, unchanged):  # noqa: F811
    # As a moderator's completion of bob's no-show looked before decisions were numbered: every row 0.
    for user, reason, points in ((bob, "no_show_reversed", 25), (alice, "completion", 10), (bob, "completion", 25)):
        ReputationLedger.objects.create(user=user, session=no_show, reason=reason, points=points)
    WingmanSession.objects.filter(pk=no_show.pk).update(status="completed", completed_at=timezone.now(),
                                                        no_show_user=None, user1_completed_confirmed_by_user2=True,
                                                        user2_completed_confirmed_by_user1=True)
    SessionEvent.objects.create(session=no_show, actor=mod, kind="completed",
                                data={"redecided_from": "no_show", "reversed": ["no_show"], "by_moderator": True})
    for user in (alice, bob):
        services.reputation_rebuild(user_id=user.pk)

    run(ledger_decisions.number_earlier_redecisions)

    assert fresh(no_show).redecisions == 1
    assert sorted(ReputationLedger.objects.values_list("user__username", "reason", "decision")) == [
        ("alice", "completion", 1), ("bob", "completion", 1), ("bob", "no_show", 0), ("bob", "no_show_reversed", 0),
    ]
    # From there on the moderator's own re-decision is used up, and an overturn reverses exactly the standing rows.
    with unchanged(), pytest.raises(Conflict) as refused:
        services.session_cancel_by_moderator(session_id=no_show.pk, moderator=mod, reason="Again")
    assert refused.value.code == "already_redecided"
    services.session_dispute(session_id=no_show.pk, user=alice, reason="He never came.")
    services.dispute_resolve(dispute_id=Dispute.objects.get().pk, moderator=mod, decision="no_show",
                             absent_user_id=bob.pk, note="Confirmed.")
    assert (profile(alice).reputation, profile(bob).reputation) == (0, -25)
    for user in (alice, bob):
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}


def test_sessions_never_re_decided_keep_decision_zero(no_show, bob):  # noqa: F811
    run(ledger_decisions.number_earlier_redecisions)
    assert fresh(no_show).redecisions == 0
    assert list(ReputationLedger.objects.values_list("reason", "decision")) == [("no_show", 0)]


session_blocked_by = importlib.import_module("sessions_app.migrations.0013_session_blocked_by")


def test_sessions_a_block_cancelled_before_get_their_blocker(session, make_session, match, alice, bob):
    services.session_cancel(session_id=session.pk, user=bob, reason="blocked")  # a reason a user typed
    by_block = make_session(starts_in=timedelta(days=1))
    services.match_block(match_id=match.pk, user=alice)
    WingmanSession.objects.update(blocked_by=None)  # as before the column

    run(session_blocked_by.name_blockers)

    assert fresh(by_block).blocked_by_id == alice.pk
    assert fresh(session).blocked_by_id is None


backfill_reliability = importlib.import_module("sessions_app.migrations.0014_backfill_reliability")


def test_every_users_reliability_is_filled_as_the_services_keep_it(make_session, alice, bob, carol, mod):
    for n in range(3):
        services.session_complete_by_moderator(session_id=make_session(starts_in=-timedelta(days=n + 1)).pk,
                                               moderator=mod)
    services.session_mark_no_show(session_id=make_session(starts_in=-timedelta(hours=2)).pk, moderator=mod,
                                  absent_user_id=bob.pk)
    services.session_cancel(session_id=make_session(starts_in=timedelta(minutes=30)).pk, user=alice, reason="ill")
    kept = dict(UserProfile.objects.values_list("pk", "reliability_percent"))
    assert (kept[alice.pk], kept[bob.pk], kept[carol.pk]) == (80, 80, None)
    UserProfile.objects.update(reliability_percent=None)  # as 0009 left every profile

    run(backfill_reliability.fill_reliability)

    assert dict(UserProfile.objects.values_list("pk", "reliability_percent")) == kept
    for user in (alice, bob, carol):
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}
