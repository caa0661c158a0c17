"""The moderators' disputes queue: open first, oldest first; resolved on the change page through dispute_resolve."""

from datetime import timedelta

from django.utils import timezone

from sessions_app import services
from sessions_app.models import Dispute, ReputationLedger, WingmanSession
from tests.conftest import web_client

from .conftest import change_url

DISPUTES = "/admin/sessions_app/dispute/"


def _cancelled_and_disputed(make_session, alice, bob, **fields):
    session = make_session(**fields)
    services.session_cancel(session_id=session.pk, user=alice, reason="Ill")
    services.session_dispute(session_id=session.pk, user=bob, reason=f"unfair {session.pk}")
    return Dispute.objects.get(session=session)


def test_the_queue_lists_open_disputes_oldest_first(mod, make_session, alice, bob):
    first = _cancelled_and_disputed(make_session, alice, bob)
    second = _cancelled_and_disputed(make_session, alice, bob, starts_in=timedelta(days=2))
    Dispute.objects.filter(pk=second.pk).update(opened_at=timezone.now() - timedelta(hours=2))
    services.dispute_resolve(dispute_id=first.pk, moderator=mod, decision="uphold", note="ok")
    third = _cancelled_and_disputed(make_session, alice, bob, starts_in=timedelta(days=3))
    page = web_client(mod).get(DISPUTES)
    assert [d.pk for d in page.context["cl"].result_list] == [second.pk, third.pk, first.pk]


def test_the_change_page_shows_session_accounts_and_timeline(mod, make_session, alice, bob):
    dispute = _cancelled_and_disputed(make_session, alice, bob)
    text = web_client(mod).get(change_url(dispute)).content.decode()
    assert "The Blue Door" in text and "reputation" in text and "Disputed the outcome" in text
    assert "alice" in text and "bob" in text


def test_a_moderator_overturns_on_the_change_page(mod, make_session, alice, bob):
    dispute = _cancelled_and_disputed(make_session, alice, bob, starts_in=timedelta(minutes=30))  # late: -5
    assert ReputationLedger.objects.get().points == -5
    response = web_client(mod).post(change_url(dispute), {"decision": "completed", "note": "They met after all.",
                                                     "absent": ""})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note) == ("overturned", "They met after all.")
    assert WingmanSession.objects.get().status == "completed"
    assert sorted(ReputationLedger.objects.values_list("reason", flat=True)) == [
        "completion", "completion", "late_cancel", "late_cancel_reversed"]


def test_resolving_without_a_note_is_refused(mod, make_session, alice, bob, unchanged):
    dispute = _cancelled_and_disputed(make_session, alice, bob)
    with unchanged():
        response = web_client(mod).post(change_url(dispute), {"decision": "uphold", "note": "", "absent": ""},
                                   follow=True)
    assert "Not saved" in response.content.decode()
    assert Dispute.objects.get().status == "open"
