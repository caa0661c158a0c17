from datetime import UTC

from icalendar import Calendar

from sessions_app import services

from .conftest import assert_problem


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_it_exports_a_valid_icalendar_event(alice_api, session, alice):
    services.notes_update(session_id=session.pk, user=alice, notes="bump version")
    session.venue_name = "Bar; Grill, and\nmore"
    session.save(update_fields=["venue_name"])
    response = alice_api.get(f"/api/sessions/{session.pk}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert f"UID:session-{session.pk}@sessions.wingmanmatch" in lines
    assert "SEQUENCE:2" in lines
    assert f"DTSTART:{session.scheduled_time.astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines
    assert "LOCATION:Bar\\; Grill\\, and\\nmore" in lines
    # Parsed back, as a calendar would read it.
    event = Calendar.from_ical(text).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Bar; Grill, and\nmore"
    assert event.decoded("DTSTART") == session.scheduled_time.replace(microsecond=0)
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (2, "CONFIRMED")


def test_a_cancelled_session_is_a_cancelled_event(alice_api, alice, session):
    services.session_cancel(session_id=session.pk, user=alice, reason="Rain")
    event = Calendar.from_ical(alice_api.get(f"/api/sessions/{session.pk}/calendar.ics").content).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2


def test_it_keeps_the_uid_stable_across_versions(alice_api, alice, session):
    uid = [line for line in unfold(alice_api.get(f"/api/sessions/{session.pk}/calendar.ics").content.decode())
           if line.startswith("UID:")]
    services.notes_update(session_id=session.pk, user=alice, notes="changed")
    again = unfold(alice_api.get(f"/api/sessions/{session.pk}/calendar.ics").content.decode())
    assert uid[0] in again
    assert "SEQUENCE:2" in again


def test_it_accepts_text_calendar(alice_api, session):
    response = alice_api.get(f"/api/sessions/{session.pk}/calendar.ics", HTTP_ACCEPT="text/calendar")
    assert response.status_code == 200


def test_it_refuses_an_outsider(carol_api, session):
    assert_problem(carol_api.get(f"/api/sessions/{session.pk}/calendar.ics"), 403, "not_participant")


def test_it_answers_404_and_422(alice_api, db):
    assert_problem(alice_api.get("/api/sessions/2b3c1f9e-0000-4000-8000-000000000000/calendar.ics"), 404)
    assert_problem(alice_api.get("/api/sessions/nope/calendar.ics"), 422, "invalid_id")
