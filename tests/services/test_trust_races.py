"""Trust races on PostgreSQL (two threads, two connections, released together; see test_concurrency.py):
both participants disputing at once, a moderator resolving while a participant disputes, and two
schedulings at once against one booking limit."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User

from sessions_app import services
from sessions_app.errors import Conflict
from sessions_app.models import Dispute, SessionEvent, WingmanSession
from tests.services.test_concurrency import race, require_postgres

RUNS = 10

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _cancelled(make_session, alice, n):
    session = make_session(starts_in=timedelta(days=1 + n))
    services.session_cancel(session_id=session.pk, user=alice, reason="Ill")
    return session


@pytest.mark.reliability("race", "both participants dispute at the same instant")
def test_both_disputing_at_once_opens_exactly_one(make_session, alice, bob):
    require_postgres()
    for n in range(RUNS):
        session = _cancelled(make_session, alice, n)
        outcomes = race(
            lambda s=session: services.session_dispute(session_id=s.pk, user=alice, reason="mine"),
            lambda s=session: services.session_dispute(session_id=s.pk, user=bob, reason="mine too"),
        )
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], Conflict) and refused[0].code == "dispute_open", outcomes
        row = WingmanSession.objects.get(pk=session.pk)
        dispute = Dispute.objects.get(session=session)
        assert row.current_dispute_id == dispute.pk and dispute.status == "open"
        assert [row.user1_disputed, row.user2_disputed].count(True) == 1  # the refused one may still dispute later
        assert SessionEvent.objects.filter(session=session, kind="dispute_opened").count() == 1


@pytest.fixture
def moderator(db):
    """A moderator by permission (a transactional test may run after a flush that took the Moderators group)."""
    user = User.objects.create_user("race-mod", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate_wingmansession"))
    return User.objects.get(pk=user.pk)


@pytest.mark.reliability("race", "a moderator resolves while the buddy disputes")
def test_a_moderator_resolving_while_the_buddy_disputes_ends_consistently(make_session, alice, bob, moderator):
    require_postgres()
    mod = moderator
    orders = set()
    for n in range(RUNS):
        session = _cancelled(make_session, alice, n)
        services.session_dispute(session_id=session.pk, user=bob, reason="unfair")
        first = Dispute.objects.get(session=session)
        outcomes = race(
            lambda d=first: services.dispute_resolve(dispute_id=d.pk, moderator=mod, decision="uphold", note="ok"),
            lambda s=session: services.session_dispute(session_id=s.pk, user=alice, reason="and me"),
        )
        resolved, disputed = outcomes
        assert not isinstance(resolved, Exception), resolved
        row = WingmanSession.objects.get(pk=session.pk)
        disputes = Dispute.objects.filter(session=session).order_by("id")
        assert disputes[0].status == "upheld"
        if isinstance(disputed, Exception):  # alice came first and found bob's dispute still open
            assert isinstance(disputed, Conflict) and disputed.code == "dispute_open"
            assert disputes.count() == 1 and row.current_dispute_id == first.pk and not row.user1_disputed
            orders.add("dispute refused")
        else:  # the moderator came first; alice's dispute is the open one the session shows
            assert disputes.count() == 2 and disputes[1].status == "open"
            assert row.current_dispute_id == disputes[1].pk and row.user1_disputed
            orders.add("dispute opened")
        assert Dispute.objects.filter(session=session, status="open").count() <= 1
    print(f"\nresolve/dispute race: {RUNS} runs, orders seen: {sorted(orders)}")


@pytest.mark.reliability("race", "two bookings at once against a booking limit")
def test_two_schedulings_at_a_booking_limit_of_one_let_exactly_one_through(alice, bob, carol, easy_challenge):
    """bob (reliability 50%: one upcoming session at most) is scheduled by two buddies at once: the profile
    locks order them, and the second counts the first's session."""
    require_postgres()
    from django.utils import timezone

    from sessions_app.models import UserProfile, WingmanMatch

    UserProfile.objects.filter(pk=bob.pk).update(reliability_percent=50)
    for _ in range(RUNS):
        WingmanSession.objects.filter(status="scheduled").update(status="cancelled", cancellation_reason="reset")
        matches = [WingmanMatch.objects.create(user1=other, user2=bob, status="accepted") for other in (alice, carol)]
        outcomes = race(*[
            (lambda m=m, u=u: services.session_schedule(
                user=u, match_id=m.pk, venue_name="Park", scheduled_time=timezone.now() + timedelta(days=2),
                user1_challenge_id=easy_challenge.pk, user2_challenge_id=easy_challenge.pk))
            for m, u in zip(matches, (alice, carol), strict=True)
        ])
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert len(refused) == 1 and getattr(refused[0], "code", None) == "booking_limit", outcomes
        assert WingmanSession.objects.filter(status="scheduled").count() == 1
