"""The dispute card on a finished session's page (works without JavaScript)."""

from sessions_app import services
from sessions_app.models import Dispute

from .conftest import HTMX


def test_it_disputes_from_the_page_and_shows_the_state(alice_web, bob_web, session, alice):
    services.session_cancel(session_id=session.pk, user=alice, reason="Ill")
    page = bob_web.get(f"/sessions/{session.pk}/").content.decode()
    assert "Dispute the outcome" in page
    response = bob_web.post(f"/sessions/{session.pk}/dispute/", {"reason": "She cancels every week"}, follow=True)
    text = response.content.decode()
    assert "Dispute sent." in text and "You disputed this outcome" in text
    assert Dispute.objects.get().reason == "She cancels every week"
    panel = alice_web.get(f"/sessions/{session.pk}/", **HTMX).content.decode()
    assert "Bob disputed this outcome" in panel and "A moderator will decide" in panel


def test_a_refused_dispute_shows_why_and_changes_nothing(bob_web, session, unchanged):
    with unchanged():
        response = bob_web.post(f"/sessions/{session.pk}/dispute/", {"reason": "early"}, follow=True)
    assert "Only a finished session&#x27;s outcome can be disputed." in response.content.decode()


def test_open_sessions_offer_no_dispute(alice_web, session):
    assert "Dispute the outcome" not in alice_web.get(f"/sessions/{session.pk}/").content.decode()
