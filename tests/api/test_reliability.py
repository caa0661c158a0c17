"""reliability_percent in the full session (no extra query, part of the ETag) and 409 booking_limit."""

from datetime import timedelta

from django.utils import timezone

from sessions_app.models import UserProfile

from .conftest import assert_problem


def test_the_buddys_reliability_shows_and_moves_the_etag(alice_api, session, bob, django_assert_max_num_queries):
    first = alice_api.get(f"/api/sessions/{session.pk}/")
    assert first.json()["participants"]["user2"]["reliability_percent"] is None
    UserProfile.objects.filter(pk=bob.pk).update(reliability_percent=85)  # no session write: same version
    with django_assert_max_num_queries(4):
        again = alice_api.get(f"/api/sessions/{session.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    assert again.json()["participants"]["user2"]["reliability_percent"] == 85
    assert again.json()["version"] == first.json()["version"]


def test_scheduling_past_a_booking_limit_is_409(alice_api, match, bob, easy_challenge, session, unchanged):
    UserProfile.objects.filter(pk=bob.pk).update(reliability_percent=40)  # bob already holds `session`
    body = {"match_id": str(match.pk), "venue_name": "Park", "user1_challenge_id": str(easy_challenge.pk),
            "user2_challenge_id": str(easy_challenge.pk),
            "scheduled_time": (timezone.now() + timedelta(days=2)).isoformat()}
    with unchanged():
        problem = assert_problem(alice_api.post("/api/sessions/", body, format="json"), 409, "booking_limit")
    assert "Your buddy's booking limit" in problem["detail"] and "moderator" in problem["detail"]
