"""close_stale_sessions: closes sessions left open 48 hours after their time and says how many."""

from datetime import timedelta

from django.utils import timezone

from sessions_app.models import SessionEvent, UserProfile, WingmanSession
from tests.conftest import command_output


def close() -> str:
    return command_output("close_stale_sessions")


def test_it_closes_stale_sessions_and_reports_them(make_session, bob):
    expired = make_session(starts_in=-timedelta(hours=49))
    attended = make_session(starts_in=-timedelta(hours=50), user1_checked_in_at=timezone.now() - timedelta(hours=50),
                            user2_completed_confirmed_by_user1=True)
    recent = make_session(starts_in=-timedelta(hours=1))

    assert close().strip() == "Closed 2 stale session(s): 1 cancelled as expired, 1 completed."
    assert WingmanSession.objects.get(pk=expired.pk).status == "cancelled"
    assert WingmanSession.objects.get(pk=attended.pk).status == "completed"
    assert WingmanSession.objects.get(pk=recent.pk).status == "scheduled"
    assert list(SessionEvent.objects.values_list("kind", "actor")) == [("expired", None), ("expired", None)]
    assert UserProfile.objects.get(pk=bob.pk).reputation == 25


def test_running_it_again_closes_nothing(make_session, unchanged):
    make_session(starts_in=-timedelta(hours=49))
    close()
    with unchanged():
        assert close().strip() == "Closed 0 stale session(s): 0 cancelled as expired, 0 completed."
