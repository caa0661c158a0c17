"""Moderator action: cancel sessions with a reason (asked on an intermediate page)."""

from datetime import timedelta

from sessions_app import services
from sessions_app.models import LedgerReason, ReputationLedger, SessionEvent, UserProfile
from tests.conftest import web_client

from .conftest import SESSIONS, act, change_url, messages_of


def test_it_asks_for_a_reason_first(mod, session, unchanged):
    client = web_client(mod)
    with unchanged():
        response = act(client, SESSIONS, "cancel_sessions", [session])
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="reason"' in page and "The Blue Door" in page
    assert f'value="{session.pk}"' in page


def test_it_refuses_a_blank_reason(mod, session, unchanged):
    client = web_client(mod)
    with unchanged():
        response = act(client, SESSIONS, "cancel_sessions", [session], apply="1", reason="   ")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]


def test_it_cancels_through_the_domain_layer(mod, session, alice, bob):
    client = web_client(mod)
    response = act(client, SESSIONS, "cancel_sessions", [session], apply="1", reason="Venue closed <b>today</b>")
    assert response.status_code == 302 and response["Location"] == SESSIONS
    assert messages_of(response) == ["Cancelled 1 session."]
    session.refresh_from_db()
    assert session.status == "cancelled"
    assert session.cancelled_by == mod
    assert session.cancellation_reason == "Venue closed <b>today</b>"
    assert session.cancellation_penalty == 0
    assert session.version == 2
    event = SessionEvent.objects.get(session=session)
    assert (event.kind, event.actor, event.data["by_moderator"], event.data["reason"]) == (
        "cancelled", mod, True, "Venue closed <b>today</b>")
    assert not ReputationLedger.objects.filter(session=session).exists()
    assert UserProfile.objects.get(user=alice).cancelled_sessions == 1
    assert UserProfile.objects.get(user=bob).cancelled_sessions == 1


def test_it_cancels_in_bulk_and_names_each_refused_row(mod, session, make_session):
    other = make_session(starts_in=timedelta(days=2), venue_name="Second Place")
    done = make_session(starts_in=timedelta(days=3), venue_name="Closed Already")
    services.session_cancel_by_moderator(session_id=done.pk, moderator=mod, reason="first")
    done.refresh_from_db()
    before = (done.version, done.cancellation_reason, SessionEvent.objects.filter(session=done).count())

    response = act(web_client(mod), SESSIONS, "cancel_sessions", [session, other, done], apply="1", reason="storm")

    assert messages_of(response) == [
        "Cancelled 2 sessions.",
        f"Refused: Closed Already @ {done.scheduled_time:%Y-%m-%d %H:%M}: The session is already cancelled.",
    ]
    session.refresh_from_db(), other.refresh_from_db(), done.refresh_from_db()
    assert (session.status, other.status) == ("cancelled", "cancelled")
    assert (done.version, done.cancellation_reason, SessionEvent.objects.filter(session=done).count()) == before


def test_it_returns_to_the_session_page_from_its_button(mod, session):
    client = web_client(mod)
    form = act(client, SESSIONS, "cancel_sessions", [session], _from_change="1")
    assert 'name="_from_change"' in form.content.decode()
    response = act(client, SESSIONS, "cancel_sessions", [session], _from_change="1", apply="1", reason="dispute")
    assert response["Location"] == change_url(session)
    session.refresh_from_db()
    assert session.status == "cancelled"


def test_it_refuses_more_than_the_bulk_limit(mod, session, make_session, unchanged, monkeypatch):
    from sessions_app import admin as moderation

    monkeypatch.setattr(moderation, "MAX_BULK_ROWS", 1)
    other = make_session(starts_in=timedelta(days=2))
    with unchanged():
        response = act(web_client(mod), SESSIONS, "cancel_sessions", [session, other], apply="1", reason="too many")
    assert messages_of(response) == ["Select at most 1 rows for one action; narrow the list first."]


def test_it_reverses_a_late_cancel_penalty_when_a_moderator_recancels_nothing(mod, make_session, alice):
    """A participant's late cancel stays as it is: re-cancelling a cancelled session is refused."""
    late = make_session(starts_in=timedelta(hours=1))
    services.session_cancel(session_id=late.pk, user=alice, reason="sick")
    assert ReputationLedger.objects.get(session=late).reason == LedgerReason.LATE_CANCEL
    response = act(web_client(mod), SESSIONS, "cancel_sessions", [late], apply="1", reason="again")
    assert "already cancelled" in messages_of(response)[0]
    assert ReputationLedger.objects.filter(session=late).count() == 1
