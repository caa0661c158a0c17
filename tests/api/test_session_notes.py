import pytest

from sessions_app import services
from sessions_app.models import SessionEvent, WingmanSession

from .conftest import assert_problem


@pytest.mark.parametrize("path", ["/api/sessions/{}/notes/", "/api/session/{}/notes"])
def test_it_replaces_the_notes_with_scripts_removed(alice_api, session, path):
    response = alice_api.patch(path.format(session.pk), {"notes": "Bring <script>alert(1)</script>cards"})
    assert response.status_code == 200
    session.refresh_from_db()
    assert "<script>" not in session.notes and "cards" in session.notes
    assert response.json()["notes"] == session.notes
    assert response.json()["version"] == session.version == 2
    assert response["ETag"].startswith('"2-')
    assert SessionEvent.objects.filter(kind="notes_updated").count() == 1


def test_it_honours_a_matching_if_match(alice_api, session):
    etag = alice_api.get(f"/api/sessions/{session.pk}/")["ETag"]
    response = alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "one"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    response = alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "two"}, HTTP_IF_MATCH="2")
    assert response.status_code == 200
    assert WingmanSession.objects.get().notes == "two"


def test_it_answers_412_with_the_current_notes_when_stale(alice_api, bob_api, bob, session, unchanged):
    etag = alice_api.get(f"/api/sessions/{session.pk}/")["ETag"]
    services.notes_update(session_id=session.pk, user=bob, notes="Bob's plan")
    with unchanged():
        response = alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "mine"}, HTTP_IF_MATCH=etag)
    problem = assert_problem(response, 412, "version_mismatch")
    assert problem["current_notes"] == "Bob's plan"
    assert problem["current_version"] == 2
    with unchanged():
        assert_problem(alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "x"},
                                      HTTP_IF_MATCH='"garbage"'), 412)


def test_it_refuses_notes_over_5000_characters(alice_api, session, unchanged):
    with unchanged():
        problem = assert_problem(alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "x" * 5001}), 422)
    assert "notes" in problem["errors"]


@pytest.mark.parametrize("body", [{"notes": 5}, {"notes": None}, {}, {"notes": ["a"]}])
def test_it_refuses_wrong_types(alice_api, session, body, unchanged):
    with unchanged():
        assert_problem(alice_api.patch(f"/api/sessions/{session.pk}/notes/", body), 422, "invalid_input")


def test_it_refuses_an_outsider_and_leaks_nothing(carol_api, session, unchanged):
    with unchanged():
        problem = assert_problem(carol_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "hi"},
                                                HTTP_IF_MATCH="0"), 403, "not_participant")
    assert "current_notes" not in problem


def test_it_refuses_a_final_session(alice_api, session, unchanged):
    WingmanSession.objects.filter(pk=session.pk).update(status="completed", completed_at=session.scheduled_time)
    with unchanged():
        assert_problem(alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "late"}), 400, "session_final")


def test_it_refuses_post(alice_api, session, unchanged):
    with unchanged():
        response = alice_api.post(f"/api/sessions/{session.pk}/notes/", {"notes": "x"})
    assert_problem(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"]


@pytest.mark.parametrize("text", ["a<b and c>d", "email me <bob@example.com>"])
def test_it_keeps_plain_text_notes_exactly_as_typed(alice_api, session, text):
    response = alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": text})
    assert response.status_code == 200
    assert response.json()["notes"] == text
    assert WingmanSession.objects.get(pk=session.pk).notes == text
    assert alice_api.get(f"/api/sessions/{session.pk}/").json()["notes"] == text


def test_it_shows_plain_text_notes_escaped_in_the_browsable_api(alice, session):
    from django.test import Client

    client = Client()
    client.force_login(alice)
    services.notes_update(session_id=session.pk, user=alice, notes="a<b and c>d <bob@example.com>")
    page = client.get(f"/api/sessions/{session.pk}/", HTTP_ACCEPT="text/html").content.decode()
    assert "a&lt;b and c&gt;d &lt;" in page  # DRF's page links the address, escaped: &lt;<a ...>bob@...</a>&gt;
    assert "<bob@example.com>" not in page and "c>d" not in page
