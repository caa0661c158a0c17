from sessions_app import services
from sessions_app.models import UserProfile

from .conftest import assert_problem


def test_it_returns_the_profile(alice_api, alice):
    assert alice_api.get("/api/me/").json() == {
        "id": alice.pk, "username": "alice", "display_name": "Alice", "timezone": "Europe/Berlin",
        "reputation": 0, "completed_sessions": 0, "no_show_count": 0,
    }


def test_it_returns_the_stats(alice_api, bob_api, alice, bob, due_session):
    services.session_start(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=alice)
    services.session_confirm(session_id=due_session.pk, user=bob)
    UserProfile.objects.filter(user=alice).update(total_sessions=2)
    body = alice_api.get("/api/me/stats/").json()
    assert body["total_sessions"] == 2
    assert body["completed_sessions"] == 1
    assert body["cancelled_sessions"] == 0
    assert body["completion_rate_percent"] == 100.0
    assert body["reputation"] == 10
    assert body["weekly_streak"] == 1
    assert set(body) == {"total_sessions", "completed_sessions", "cancelled_sessions", "no_show_sessions",
                         "completion_rate_percent", "total_active_seconds", "average_duration_seconds",
                         "reputation", "weekly_streak"}


def test_it_reads_stats_within_3_queries(alice_api, alice, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert alice_api.get("/api/me/stats/").status_code == 200


def test_it_reads_stats_within_3_queries_with_the_session_cookie(client, alice, django_assert_max_num_queries):
    client.force_login(alice)
    with django_assert_max_num_queries(3):
        assert client.get("/api/me/stats/").status_code == 200


def test_it_shows_an_outsider_only_their_own(carol_api, carol, alice):
    assert carol_api.get("/api/me/").json()["id"] == carol.pk


def test_it_requires_authentication(anon, db):
    assert_problem(anon.get("/api/me/"), 401)
    assert_problem(anon.get("/api/me/stats/"), 401)
