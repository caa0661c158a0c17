"""POST /api/matches/{id}/block/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import Block, Report, WingmanMatch, WingmanSession

from .conftest import assert_problem


def test_it_blocks_cancels_and_reports(alice_api, match, session, bob):
    response = alice_api.post(f"/api/matches/{match.pk}/block/", {"reason": "rude", "report": True}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "ended"
    assert WingmanSession.objects.get().cancellation_reason == "blocked"
    assert Report.objects.get().reported == bob
    assert Block.objects.count() == 1


def test_the_body_is_optional(bob_api, match, alice):
    assert bob_api.post(f"/api/matches/{match.pk}/block/").status_code == 200
    assert Block.objects.get().blocked == alice and not Report.objects.exists()


def test_scheduling_the_blocked_pair_is_409_blocked(alice_api, bob_api, match, easy_challenge, unchanged):
    alice_api.post(f"/api/matches/{match.pk}/block/")
    again = WingmanMatch.objects.create(user1=match.user1, user2=match.user2, status="accepted")
    body = {"match_id": str(again.pk), "venue_name": "Park", "user1_challenge_id": str(easy_challenge.pk),
            "user2_challenge_id": str(easy_challenge.pk),
            "scheduled_time": (timezone.now() + timedelta(days=2)).isoformat()}
    with unchanged():
        assert_problem(bob_api.post("/api/sessions/", body, format="json"), 409, "blocked")


def test_a_repeat_with_the_same_key_replays_and_a_new_one_is_409(alice_api, match, unchanged):
    first = alice_api.post(f"/api/matches/{match.pk}/block/", HTTP_IDEMPOTENCY_KEY="b-1")
    with unchanged():
        again = alice_api.post(f"/api/matches/{match.pk}/block/", HTTP_IDEMPOTENCY_KEY="b-1")
        assert again.status_code == first.status_code == 200
        assert_problem(alice_api.post(f"/api/matches/{match.pk}/block/"), 409, "already_blocked")


@pytest.mark.parametrize("body", [{"report": "yes"}, {"report": 1}, {"reason": 5}, {"reason": "x" * 501}])
def test_it_refuses_malformed_bodies(alice_api, match, body, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/matches/{match.pk}/block/", body, format="json"), 422)


def test_outsiders_and_unknown_matches(carol_api, match, unchanged):
    with unchanged():
        assert_problem(carol_api.post(f"/api/matches/{match.pk}/block/"), 403)
        assert_problem(carol_api.post("/api/matches/00000000-0000-0000-0000-000000000000/block/"), 404)
        assert_problem(carol_api.post("/api/matches/nope/block/"), 422)


def test_the_blocked_user_sees_a_neutral_cancellation_and_the_blocker_sees_why(alice_api, bob_api, match, session):
    alice_api.post(f"/api/matches/{match.pk}/block/", {"reason": "rude"}, format="json")

    seen = bob_api.get(f"/api/sessions/{session.pk}/")
    events = bob_api.get(f"/api/sessions/{session.pk}/events/")
    assert seen.json()["status"] == "cancelled"
    assert (seen.json()["cancellation_reason"], seen.json()["cancelled_by_id"]) == ("", None)
    assert seen.json()["allowed_actions"]["dispute"]["code"] == "not_disputable"
    assert [e["data"] for e in events.json()["results"] if e["kind"] == "cancelled"] == [{"reason": "", "penalty": 0}]
    for response in (seen, events):
        assert "block" not in response.content.decode().lower()

    mine = alice_api.get(f"/api/sessions/{session.pk}/").json()
    assert mine["cancellation_reason"] == "blocked"
    cancel = next(e for e in alice_api.get(f"/api/sessions/{session.pk}/events/").json()["results"]
                  if e["kind"] == "cancelled")
    assert (cancel["data"]["reason"], cancel["data"]["by_block"]) == ("blocked", True)


def test_the_blocked_users_export_shows_the_cancellation_neutrally(alice_api, bob_api, match, session):
    alice_api.post(f"/api/matches/{match.pk}/block/")
    (row,) = bob_api.get("/api/me/export/").json()["sessions"]
    assert (row["status"], row["cancellation_reason"], row["blocked_by_id"]) == ("cancelled", "", None)
    (row,) = alice_api.get("/api/me/export/").json()["sessions"]
    assert (row["cancellation_reason"], row["blocked_by_id"]) == ("blocked", match.user1_id)
