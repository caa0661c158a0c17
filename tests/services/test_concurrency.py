"""Races on PostgreSQL: two threads, each with its own connection, released together by a barrier.

SQLite serialises every write, so these say so and skip there; CI (WINGMAN_REQUIRE_POSTGRES=1) fails instead.
The figures go to docs/RELIABILITY.md (tests/reliability.py).
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import Conflict
from sessions_app.models import ReputationLedger, SessionEvent, UserProfile, WingmanSession
from tests.conftest import on_postgres, require_or_skip
from tests.services.conftest import profile

RUNS = 50

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(*calls) -> list:
    """Run the calls at the same instant, one thread (and database connection) each; return result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:  # the test inspects every outcome
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return outcomes


def require_postgres() -> None:
    require_or_skip(on_postgres(), "concurrency tests need PostgreSQL (SQLite serialises every write)",
                    "WINGMAN_REQUIRE_POSTGRES")


@pytest.mark.slow
@pytest.mark.reliability("race", "both buddies confirm at the same instant")
def test_both_confirming_at_once_completes_exactly_once(make_session, alice, bob, record_property):
    require_postgres()
    sessions = [make_session(starts_in=-timedelta(minutes=20)) for _ in range(RUNS)]
    started = time.monotonic()
    successes = errors = 0
    for session in sessions:
        outcomes = race(
            lambda s=session: services.session_confirm(session_id=s.pk, user=alice),
            lambda s=session: services.session_confirm(session_id=s.pk, user=bob),
        )
        failures = [o for o in outcomes if isinstance(o, Exception)]
        errors += len(failures)
        successes += len(outcomes) - len(failures)
        assert not failures, failures
        assert sum(o.both_confirmed for o in outcomes) == 1  # exactly one call saw both flags
    elapsed = time.monotonic() - started

    completions = SessionEvent.objects.filter(kind="completed").values_list("session_id", flat=True)
    rows = ReputationLedger.objects.filter(reason="completion")
    record_property("reliability", f"{RUNS} runs: {successes} successful calls, {errors} errors, "
                    f"{len(completions)} completions, {rows.count()} ledger rows, {elapsed:.1f} s")
    assert successes == 2 * RUNS and errors == 0
    assert sorted(completions) == sorted(s.pk for s in sessions)  # one completion event per session
    assert WingmanSession.objects.filter(status="completed").count() == RUNS
    for user in (alice, bob):
        assert rows.filter(user=user).count() == RUNS
        assert sorted(rows.filter(user=user).values_list("session_id", flat=True)) == sorted(s.pk for s in sessions)
    assert (profile(alice).reputation, profile(alice).completed_sessions) == (RUNS * 10, RUNS)
    assert (profile(bob).reputation, profile(bob).completed_sessions) == (RUNS * 25, RUNS)
    assert services.reputation_rebuild(user_id=alice.pk) == services.reputation_rebuild(user_id=bob.pk) == {}


@pytest.mark.slow
@pytest.mark.reliability("race", "one user starts two sessions at the same instant")
def test_starting_two_sessions_at_once_leaves_one_in_progress(make_session, alice_dave_match, alice, record_property):
    require_postgres()
    started = time.monotonic()
    successes = conflicts = 0
    for _ in range(RUNS):
        with_bob = make_session(starts_in=timedelta(minutes=5))
        with_dave = make_session(of_match=alice_dave_match, starts_in=timedelta(minutes=5))
        outcomes = race(
            lambda s=with_bob: services.session_start(session_id=s.pk, user=alice),
            lambda s=with_dave: services.session_start(session_id=s.pk, user=alice),
        )
        won = [o for o in outcomes if isinstance(o, WingmanSession)]
        lost = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert lost[0].code == "another_session_in_progress"
        successes += len(won)
        conflicts += len(lost)
        running = WingmanSession.objects.filter(status="in_progress")
        assert list(running.values_list("pk", flat=True)) == [won[0].pk]
        # End it (outside the race) so the next run starts from nothing in progress.
        running.update(status="cancelled")
        UserProfile.objects.update(running_session=None)
    elapsed = time.monotonic() - started

    record_property("reliability", f"{RUNS} runs: {successes} starts, {conflicts} conflicts, {elapsed:.1f} s")
    assert (successes, conflicts) == (RUNS, RUNS)
    assert SessionEvent.objects.filter(kind="started").count() == RUNS


@pytest.mark.slow
@pytest.mark.reliability("race", "two stale-session sweeps at the same instant")
def test_two_stale_sweeps_at_once_close_each_session_once(make_session, alice, bob, record_property):
    require_postgres()
    checked_in = timezone.now() - timedelta(hours=50)
    for index in range(RUNS):
        attended = index % 2 == 0  # half completed (bob confirmed), half expired
        make_session(starts_in=-timedelta(hours=49), user1_checked_in_at=checked_in if attended else None,
                     user1_completed_confirmed_by_user2=attended)
    started = time.monotonic()
    outcomes = race(services.stale_sessions_close, services.stale_sessions_close)
    elapsed = time.monotonic() - started

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    closed = {kind: sum(o[kind] for o in outcomes) for kind in ("cancelled", "completed")}
    record_property("reliability", f"{RUNS} stale sessions: two sweeps closed {closed['cancelled']} as cancelled "
                    f"and {closed['completed']} as completed, {elapsed:.1f} s")
    assert closed == {"cancelled": RUNS // 2, "completed": RUNS // 2}
    assert SessionEvent.objects.filter(kind="expired").count() == RUNS
    assert not WingmanSession.objects.filter(status__in=["scheduled", "in_progress"]).exists()
    assert (profile(alice).reputation, profile(alice).completed_sessions) == (RUNS // 2 * 10, RUNS // 2)
    assert profile(bob).reputation == 0
