"""The "Block <buddy>" form on the session page (works without JavaScript)."""

from sessions_app.models import Block, Report, WingmanMatch, WingmanSession

from .conftest import HTMX


def test_it_blocks_from_the_session_page_without_javascript(alice_web, session, bob):
    page = alice_web.get(f"/sessions/{session.pk}/").content.decode()
    assert "Block Bob" in page
    response = alice_web.post(f"/sessions/{session.pk}/block/", {"reason": "rude", "report": "on"}, follow=True)
    assert "Blocked." in response.content.decode()
    assert WingmanSession.objects.get().status == "cancelled"
    assert WingmanMatch.objects.get().status == "ended"
    assert Report.objects.get().reported == bob
    assert "Block Bob" not in response.content.decode()  # done: the form is gone


def test_with_htmx_it_answers_the_refreshed_panel(bob_web, session, alice):
    response = bob_web.post(f"/sessions/{session.pk}/block/", **HTMX)
    assert response.status_code == 200
    assert "Blocked." in response.content.decode()
    assert Block.objects.get().blocked == alice and not Report.objects.exists()


def test_blocking_twice_shows_a_message_and_changes_nothing(alice_web, session, unchanged):
    alice_web.post(f"/sessions/{session.pk}/block/")
    with unchanged():
        response = alice_web.post(f"/sessions/{session.pk}/block/", follow=True)
    assert "You have already blocked this person." in response.content.decode()


def test_outsiders_get_the_403_page(carol_web, session, unchanged):
    with unchanged():
        assert carol_web.post(f"/sessions/{session.pk}/block/").status_code == 403


def test_the_blocked_user_sees_a_neutral_cancellation_and_the_blocker_sees_why(alice_web, bob_web, session):
    alice_web.post(f"/sessions/{session.pk}/block/")

    blocked = bob_web.get(f"/sessions/{session.pk}/").content.decode()
    assert "Cancelled." in blocked
    assert "blocked" not in blocked.lower()
    blocker = alice_web.get(f"/sessions/{session.pk}/").content.decode()
    assert "Cancelled: “blocked”." in blocker
    assert "cancelled: “blocked”" in blocker  # the timeline line
