from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import SessionEvent, UserProfile, WingmanSession

from .conftest import assert_problem


@pytest.fixture
def body(match, easy_challenge, hard_challenge):
    return {
        "match_id": str(match.pk),
        "venue_name": "The <b>Blue</b> Door",
        "scheduled_time": (timezone.now() + timedelta(days=1)).isoformat(),
        "user1_challenge_id": str(easy_challenge.pk),
        "user2_challenge_id": str(hard_challenge.pk),
    }


@pytest.mark.parametrize("path", ["/api/sessions/", "/api/session/create"])
def test_it_schedules_a_session(alice_api, alice, body, path):
    response = alice_api.post(path, body)
    assert response.status_code == 201, response.content
    session = WingmanSession.objects.get()
    assert response.json()["id"] == str(session.pk)
    assert response.json()["venue_name"] == "The <b>Blue</b> Door"  # plain text, kept as typed
    assert response["Location"] == f"/api/sessions/{session.pk}/"
    assert response["ETag"]
    assert session.user1_challenge_points == 10
    assert SessionEvent.objects.filter(session=session, kind="scheduled").count() == 1
    assert UserProfile.objects.get(user=alice).total_sessions == 1


def test_it_refuses_an_outsider_scheduling_for_someone_elses_match(carol_api, body, unchanged):
    with unchanged():
        assert_problem(carol_api.post("/api/sessions/", body), 403, "not_participant")


@pytest.mark.parametrize(
    "field, value",
    [
        ("match_id", "not-a-uuid"),
        ("match_id", 12),
        ("venue_name", 42),
        ("venue_name", "x" * 201),
        ("scheduled_time", "tomorrow"),
        ("scheduled_time", "2030-01-01T10:00:00"),
        ("scheduled_time", None),
        ("user1_challenge_id", None),
    ],
)
def test_it_refuses_malformed_input(alice_api, body, field, value, unchanged):
    body[field] = value
    with unchanged():
        problem = assert_problem(alice_api.post("/api/sessions/", body), 422, "invalid_input")
    assert field in problem["errors"]


def test_it_refuses_unknown_ids_as_malformed(alice_api, body, unchanged):
    body["user2_challenge_id"] = "00000000-0000-0000-0000-000000000000"
    with unchanged():
        problem = assert_problem(alice_api.post("/api/session/create", body), 422)
    assert "user2_challenge_id" in problem["errors"]


def test_it_refuses_a_time_in_the_past(alice_api, body, unchanged):
    body["scheduled_time"] = (timezone.now() - timedelta(hours=1)).isoformat()
    with unchanged():
        assert_problem(alice_api.post("/api/sessions/", body), 400, "time_in_past")


def test_it_refuses_a_body_that_is_not_an_object(alice_api, db, unchanged):
    with unchanged():
        assert_problem(alice_api.post("/api/sessions/", [1, 2]), 422, "invalid_input")


def test_it_requires_authentication(anon, body, unchanged):
    with unchanged():
        assert_problem(anon.post("/api/sessions/", body), 401)
