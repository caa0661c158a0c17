"""Constraints the database itself enforces, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sessions_app.models import ApproachChallenge, ReputationLedger, SessionEvent, WingmanMatch, WingmanSession
from tests.conftest import on_postgres, require_or_skip


def refused(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.mark.parametrize("status", ["done", "", "COMPLETED"])
def test_a_session_status_must_be_known(session, status):
    refused(lambda: WingmanSession.objects.filter(pk=session.pk).update(status=status))


@pytest.mark.parametrize("status", ["scheduled", "in_progress", "cancelled", "no_show"])
def test_known_session_statuses_are_accepted(session, status):
    WingmanSession.objects.filter(pk=session.pk).update(status=status)


def test_a_completed_session_has_its_completion_time(session):
    refused(lambda: WingmanSession.objects.filter(pk=session.pk).update(status="completed", completed_at=None))
    WingmanSession.objects.filter(pk=session.pk).update(status="completed", completed_at=timezone.now())


def test_a_session_has_two_different_users(session, alice):
    refused(lambda: WingmanSession.objects.filter(pk=session.pk).update(user2=alice))


def test_a_match_has_two_different_users(alice):
    refused(lambda: WingmanMatch.objects.create(user1=alice, user2=alice, status="accepted"))


@pytest.mark.parametrize("status", ["active", ""])
def test_a_match_status_must_be_known(match, status):
    refused(lambda: WingmanMatch.objects.filter(pk=match.pk).update(status=status))


@pytest.mark.parametrize("points", [0, 101, 1000])
def test_challenge_points_are_1_to_100(db, points):
    refused(lambda: ApproachChallenge.objects.create(title="x", difficulty="beginner", points=points))


@pytest.mark.parametrize("points", [1, 100])
def test_challenge_points_at_the_edges_are_accepted(db, points):
    ApproachChallenge.objects.create(title="x", difficulty="beginner", points=points)


def test_a_challenge_difficulty_must_be_known(db):
    refused(lambda: ApproachChallenge.objects.create(title="x", difficulty="extreme", points=5))


@pytest.mark.parametrize("field", ["user1_challenge_points", "user2_challenge_points"])
@pytest.mark.parametrize("points", [0, 101])
def test_snapshot_points_are_1_to_100(session, field, points):
    refused(lambda: WingmanSession.objects.filter(pk=session.pk).update(**{field: points}))


def test_the_version_is_positive(session):
    refused(lambda: WingmanSession.objects.filter(pk=session.pk).update(version=0))


def test_the_ledger_holds_one_row_per_user_session_and_reason(session, alice, bob):
    ReputationLedger.objects.create(user=alice, session=session, reason="completion", points=10)
    refused(lambda: ReputationLedger.objects.create(user=alice, session=session, reason="completion", points=10))
    # Other users and other reasons are separate rows.
    ReputationLedger.objects.create(user=bob, session=session, reason="completion", points=25)
    ReputationLedger.objects.create(user=alice, session=session, reason="completion_reversed", points=-10)
    assert ReputationLedger.objects.count() == 3


def test_a_ledger_reason_must_be_known(session, alice):
    refused(lambda: ReputationLedger.objects.create(user=alice, session=session, reason="bonus", points=1))


@pytest.mark.postgres
def test_the_audit_log_and_ledger_are_append_only(session, alice):
    require_or_skip(on_postgres(), "append-only triggers exist only on PostgreSQL", "WINGMAN_REQUIRE_POSTGRES")
    event = SessionEvent.objects.create(session=session, actor=alice, kind="scheduled")
    row = ReputationLedger.objects.create(user=alice, session=session, reason="completion", points=10)
    refused(lambda: SessionEvent.objects.filter(pk=event.pk).update(kind="completed"))
    refused(lambda: SessionEvent.objects.filter(pk=event.pk).delete())
    refused(lambda: ReputationLedger.objects.filter(pk=row.pk).update(points=100))
    refused(lambda: ReputationLedger.objects.filter(pk=row.pk).delete())
    assert SessionEvent.objects.get(pk=event.pk).kind == "scheduled"
    assert ReputationLedger.objects.get(pk=row.pk).points == 10


def test_the_indexes_for_history_exist_in_the_database(db):
    with connection.cursor() as cursor:
        sessions = connection.introspection.get_constraints(cursor, "wingman_sessions")
        ledger = connection.introspection.get_constraints(cursor, "reputation_ledger")
    assert {"session_user1_time", "session_user2_time", "session_user1_status_time", "session_user2_status_time",
            "session_match_time", "session_open_by_time"} <= set(sessions)
    assert {"ledger_once_per_decision", "ledger_user_time"} <= set(ledger)
