"""user_erase: the account is anonymised and closed; the buddy's history, notes and points stay intact."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from notifications.models import Notification
from sessions_app import services
from sessions_app.errors import RuleViolation
from sessions_app.models import IdempotencyRecord, ReputationLedger, SessionEvent, WingmanMatch, WingmanSession

from .conftest import fresh, profile


def test_it_cancels_open_sessions_without_penalty_and_keeps_the_buddys_history(
        make_session, running_session, alice, bob):
    done = make_session(starts_in=-timedelta(days=2))
    services.notes_update(session_id=done.pk, user=bob, notes="Bob's notes")
    services.session_confirm(session_id=done.pk, user=alice)
    services.session_confirm(session_id=done.pk, user=bob)
    late = make_session(starts_in=timedelta(minutes=30))
    IdempotencyRecord.objects.create(user=alice, key="k", method="POST", path="/x", request_hash="h")
    services.user_erase(user=alice)

    for session in (late, running_session):
        row = fresh(session)
        assert (row.status, row.cancellation_reason, row.cancelled_by_id, row.cancellation_penalty) == (
            "cancelled", "erased", None, 0)
    assert fresh(done).status == "completed" and fresh(done).notes == "Bob's notes"
    assert profile(bob).reputation == 25 and profile(bob).running_session_id is None
    assert set(ReputationLedger.objects.values_list("reason", flat=True)) == {"completion"}
    assert WingmanMatch.objects.get().status == "ended"
    user = User.objects.get(pk=alice.pk)
    assert (user.username, user.email, user.is_active, user.has_usable_password()) == (
        f"erased-{alice.pk}", "", False, False)
    assert profile(alice).display_name == services.ERASED_DISPLAY_NAME
    assert not IdempotencyRecord.objects.exists()
    # Her own notifications go; bob's (he was told of the cancellations) stay.
    assert not Notification.objects.filter(recipient=alice).exists()
    assert Notification.objects.filter(recipient=bob, kind="session_cancelled").count() == 2
    assert SessionEvent.objects.get(kind="account_erased").subject_user_id == alice.pk
    for person in (alice, bob):
        assert services.reputation_rebuild(user_id=person.pk, fix=False) == {}


def test_sessions_it_cancelled_cannot_be_disputed(session, alice, bob):
    services.user_erase(user=alice)
    with pytest.raises(RuleViolation) as refused:
        services.session_dispute(session_id=session.pk, user=bob, reason="unfair")
    assert refused.value.code == "not_disputable"
    assert fresh(session).finished_at <= timezone.now()


def test_erasing_a_demo_user_leaves_every_counter_consistent(db):
    from django.core.management import call_command

    call_command("seed_demo", password="demo-pass-123", allow_production=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    services.user_erase(user=User.objects.get(username="bob"))
    assert not WingmanSession.objects.filter(user2__username__startswith="erased-", status="scheduled").exists()
    for user in User.objects.all():
        assert services.reputation_rebuild(user_id=user.pk, fix=False) == {}, user
