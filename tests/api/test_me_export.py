"""GET /api/me/export/: everything stored about the caller, and nothing about anyone else's own records."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app import services


def test_it_exports_the_callers_data(bob_api, alice, bob, match, session, make_session, carol_match, carol):
    services.session_reschedule_propose(session_id=session.pk, user=bob,
                                        scheduled_time=timezone.now() + timedelta(days=2))
    cancelled = make_session(starts_in=timedelta(days=5))
    services.session_cancel(session_id=cancelled.pk, user=alice, reason="ill")
    services.session_dispute(session_id=cancelled.pk, user=bob, reason="unfair")
    services.match_block(match_id=carol_match.pk, user=carol, report=True)  # carol's business, not bob's
    bob_api.post(f"/api/sessions/{session.pk}/reschedule/decline/", HTTP_IDEMPOTENCY_KEY="k-export")
    response = bob_api.get("/api/me/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = response.json()
    assert data["account"]["username"] == "bob" and data["profile"]["display_name"] == "Bob"
    assert {s["id"] for s in data["sessions"]} == {str(session.pk), str(cancelled.pk)}
    assert [m["id"] for m in data["matches"]] == [str(match.pk)]
    assert [d["reason"] for d in data["disputes"]] == ["unfair"]
    assert {e["kind"] for e in data["events"]} >= {"reschedule_proposed", "dispute_opened", "reschedule_withdrawn"}
    assert [r["key"] for r in data["idempotency_records"]] == ["k-export"]
    assert data["blocks"] == [] and data["reports"] == []
    # The notifications app's records: what bob was told, his choices, his calendar feed.
    assert {"session_cancelled", "dispute_opened"} <= {n["kind"] for n in data["notifications"]}
    assert all(n["kind"] != "reschedule_proposed" for n in data["notifications"])  # he proposed it himself
    assert data["notification_preferences"] == [] and data["calendar_feed"] is None


def test_it_exports_notification_choices_and_the_feed(alice_api, alice):
    from notifications import services as notify

    notify.preference_set(user=alice, kind="reminder_24h", email=False)
    notify.calendar_token_rotate(user=alice)
    data = alice_api.get("/api/me/export/").json()
    assert data["notification_preferences"] == [{"kind": "reminder_24h", "email": False, "in_app": True}]
    assert data["calendar_feed"]["created_at"]


def test_it_costs_a_fixed_number_of_queries(alice_api, alice, make_session):
    for day in range(15):
        make_session(starts_in=timedelta(days=day + 1))
    with CaptureQueriesContext(connection) as queries:
        assert alice_api.get("/api/me/export/").status_code == 200
    assert len(queries) <= 17, [q["sql"][:100] for q in queries]  # 3 of them for the notifications app


def test_anonymous_callers_get_401(anon):
    assert anon.get("/api/me/export/").status_code == 401
