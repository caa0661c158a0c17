"""rebuild_reputation: recounts the reputation counters from the ledger and reports drift."""


from django.contrib.auth import get_user_model

from sessions_app import services
from sessions_app.models import UserProfile
from tests.conftest import command_output


def rebuild(*args) -> str:
    return command_output("rebuild_reputation", *args)


def counters(user) -> tuple:
    p = UserProfile.objects.get(pk=user.pk)
    return p.reputation, p.completed_sessions, p.no_show_count


def complete(session, alice, bob) -> None:
    services.session_confirm(session_id=session.pk, user=alice)
    services.session_confirm(session_id=session.pk, user=bob)


def test_it_reports_no_drift_after_real_use(due_session, alice, bob, unchanged):
    complete(due_session, alice, bob)
    users = get_user_model().objects.count()
    with unchanged():
        assert rebuild().strip() == f"Checked {users} user(s); no drift."


def test_it_reports_and_fixes_drift(due_session, alice, bob):
    complete(due_session, alice, bob)
    UserProfile.objects.filter(pk=bob.pk).update(reputation=1000, completed_sessions=3)
    output = rebuild()
    assert "drift for bob: reputation 1000 -> 25, completed_sessions 3 -> 1 (fixed)" in output
    assert "1 had drift" in output
    assert "alice" not in output
    assert counters(bob) == (25, 1, 0)
    assert "no drift" in rebuild()


def test_a_dry_run_only_reports(due_session, alice, bob, unchanged):
    complete(due_session, alice, bob)
    UserProfile.objects.filter(pk=alice.pk).update(no_show_count=2)
    with unchanged():
        output = rebuild("--dry-run")
    assert "drift for alice: no_show_count 2 -> 0 (would fix)" in output
    assert counters(alice) == (10, 1, 2)


def test_it_can_check_named_users_only(due_session, alice, bob):
    complete(due_session, alice, bob)
    UserProfile.objects.filter(pk=bob.pk).update(reputation=0)
    assert rebuild("alice").strip() == "Checked 1 user(s); no drift."
    assert counters(bob)[0] == 0
    assert "drift for bob" in rebuild("bob")
    assert counters(bob)[0] == 25
