import uuid

from django.test import override_settings

from sessions_app import services

from .conftest import assert_problem


def test_it_returns_the_full_session(alice_api, session, alice, bob):
    response = alice_api.get(f"/api/sessions/{session.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(session.pk)
    assert body["match_id"] == str(session.match_id)
    assert body["venue_name"] == "The Blue Door"
    assert body["status"] == "scheduled"
    assert body["version"] == session.version
    assert body["notes"] == ""
    assert body["participants"]["user1"]["id"] == alice.pk
    assert body["participants"]["user1"]["name"] == "Alice"
    assert body["participants"]["user2"]["name"] == "Bob"
    assert body["participants"]["user2"]["challenge"] == {
        "title": "Start a group conversation", "description": "Join a group and introduce yourself.",
        "difficulty": "advanced", "points": 25,
    }
    assert body["participants"]["user1"]["checked_in_at"] is None
    assert body["participants"]["user1"]["confirmed"] is False
    assert body["reputation_preview"] == {"user1_delta": 10, "user2_delta": 25}
    assert body["allowed_actions"]["check_in"]["allowed"] is False
    assert body["allowed_actions"]["check_in"]["code"] == "check_in_not_open"
    assert body["allowed_actions"]["cancel"] == {"allowed": True, "code": None, "reason": None}
    assert body["timing"]["active_seconds"] == 0
    assert body["timing"]["paused"] is False
    assert body["scheduled_time"].endswith("Z") or "+" in body["scheduled_time"]


def test_it_answers_the_same_body_on_the_original_path(alice_api, session):
    canonical = alice_api.get(f"/api/sessions/{session.pk}/")
    original = alice_api.get(f"/api/session/{session.pk}")
    assert original.status_code == 200
    assert original.json() == canonical.json()
    assert original["ETag"] == canonical["ETag"]


def test_it_sends_etag_and_private_cache_control(alice_api, session):
    response = alice_api.get(f"/api/sessions/{session.pk}/")
    assert response["ETag"].startswith(f'"{session.version}-')
    assert "private" in response["Cache-Control"]
    assert "Authorization" in response["Vary"]


def test_it_answers_304_to_a_matching_if_none_match(alice_api, session):
    etag = alice_api.get(f"/api/sessions/{session.pk}/")["ETag"]
    response = alice_api.get(f"/api/sessions/{session.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "private" in response["Cache-Control"]


def test_it_answers_200_after_a_change(alice_api, alice, session):
    etag = alice_api.get(f"/api/sessions/{session.pk}/")["ETag"]
    services.notes_update(session_id=session.pk, user=alice, notes="Meet at the bar")
    response = alice_api.get(f"/api/sessions/{session.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["notes"] == "Meet at the bar"
    assert response["ETag"] != etag


def test_it_never_serves_a_stale_read(alice_api, alice, session):
    alice_api.get(f"/api/sessions/{session.pk}/")
    services.notes_update(session_id=session.pk, user=alice, notes="changed")
    assert alice_api.get(f"/api/sessions/{session.pk}/").json()["notes"] == "changed"


def test_it_refuses_an_outsider(carol_api, session, unchanged):
    with unchanged():
        response = carol_api.get(f"/api/sessions/{session.pk}/")
    body = assert_problem(response, 403, "not_participant")
    assert "venue" not in str(body).lower() or "Blue Door" not in str(body)
    assert_problem(carol_api.get(f"/api/session/{session.pk}"), 403, "not_participant")


def test_it_answers_404_for_an_unknown_session(alice_api, db):
    assert_problem(alice_api.get(f"/api/sessions/{uuid.uuid4()}/"), 404, "not_found")
    assert_problem(alice_api.get(f"/api/session/{uuid.uuid4()}"), 404, "not_found")


def test_it_answers_422_for_a_malformed_id(alice_api, db):
    assert_problem(alice_api.get("/api/sessions/not-a-uuid/"), 422, "invalid_id")
    assert_problem(alice_api.get("/api/session/not-a-uuid"), 422, "invalid_id")


def test_it_requires_authentication(anon, session):
    response = anon.get(f"/api/sessions/{session.pk}/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_bad_token(anon, session):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_problem(anon.get(f"/api/sessions/{session.pk}/"), 401, "token_not_valid")


def test_it_reads_with_at_most_4_queries_with_jwt(alice_api, session, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert alice_api.get(f"/api/sessions/{session.pk}/").status_code == 200
    with django_assert_max_num_queries(4):  # cached
        assert alice_api.get(f"/api/sessions/{session.pk}/").status_code == 200


def test_it_reads_with_at_most_4_queries_with_the_session_cookie(client, alice, session, go_cold,
                                                                django_assert_max_num_queries):
    client.force_login(alice)
    go_cold()  # the worst case: session, user and session row all from the database
    with django_assert_max_num_queries(4):
        assert client.get(f"/api/sessions/{session.pk}/").status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(f"/api/session/{session.pk}").status_code == 200


def test_it_answers_304_within_the_query_budget(alice_api, session, django_assert_max_num_queries):
    etag = alice_api.get(f"/api/sessions/{session.pk}/")["ETag"]
    with django_assert_max_num_queries(4):
        assert alice_api.get(f"/api/sessions/{session.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304


@override_settings(CACHES={"default": {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
}}, DJANGO_REDIS_IGNORE_EXCEPTIONS=True)
def test_it_keeps_reading_with_redis_down_and_refuses_writes_it_could_not_announce(alice_api, bob_api, alice,
                                                                                  due_session, unchanged):
    assert alice_api.get(f"/api/sessions/{due_session.pk}/").status_code == 200
    assert bob_api.get(f"/api/sessions/{due_session.pk}/").json()["notes"] == due_session.notes
    with unchanged():
        notes = alice_api.patch(f"/api/sessions/{due_session.pk}/notes/", {"notes": "lost?"})
        confirm = bob_api.post(f"/api/sessions/{due_session.pk}/confirm/")
    for response in (notes, confirm):
        assert_problem(response, 503, "cache_unavailable")
        assert int(response["Retry-After"]) >= 1


def test_it_answers_304_for_a_running_session_as_time_passes(alice, make_session, client):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from sessions_app import services

    running = make_session(starts_in=timedelta(minutes=5))
    services.session_check_in(session_id=running.pk, user=alice)
    client.force_login(alice)
    first = client.get(f"/api/sessions/{running.pk}/")
    assert first.json()["timing"]["running_since"] is not None
    later = timezone.now() + timedelta(seconds=40)
    with mock.patch("django.utils.timezone.now", return_value=later):
        again = client.get(f"/api/sessions/{running.pk}/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_it_changes_the_etag_when_the_buddy_is_renamed(alice, bob, session, client,
                                                      django_capture_on_commit_callbacks):
    from sessions_app import services

    client.force_login(alice)
    first = client.get(f"/api/sessions/{session.pk}/")
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_update(user=bob, display_name="Robert")
    again = client.get(f"/api/sessions/{session.pk}/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again.json()["participants"]["user2"]["name"] == "Robert"


def test_it_changes_the_etag_when_check_in_opens_with_time(alice, make_session, client):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    soon = make_session(starts_in=timedelta(minutes=40))
    client.force_login(alice)
    first = client.get(f"/api/sessions/{soon.pk}/")
    assert first.json()["allowed_actions"]["check_in"]["allowed"] is False
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=15)):
        again = client.get(f"/api/sessions/{soon.pk}/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again.json()["allowed_actions"]["check_in"]["allowed"] is True


def test_it_disables_starting_while_a_participant_runs_another_session(bob_api, due_session, alice, dave):
    from sessions_app.models import UserProfile, WingmanMatch

    other = WingmanMatch.objects.create(user1=alice, user2=dave, status="accepted")
    running = due_session.__class__.objects.create(
        match=other, user1=alice, user2=dave, venue_name="Elsewhere", scheduled_time=due_session.scheduled_time,
        status="in_progress", **due_session.snapshot_fields(due_session.user1_challenge, due_session.user2_challenge),
    )
    UserProfile.objects.filter(pk__in=[alice.pk, dave.pk]).update(running_session=running)
    actions = bob_api.get(f"/api/sessions/{due_session.pk}/").json()["allowed_actions"]
    assert actions["check_in"]["allowed"] is False
    assert actions["check_in"]["code"] == "another_session_in_progress"
    assert actions["start"]["code"] == "another_session_in_progress"


def test_it_sends_the_same_bytes_for_the_same_etag_and_new_ones_after_a_change(alice_api, alice, session):
    first = alice_api.get(f"/api/sessions/{session.pk}/")
    again = alice_api.get(f"/api/sessions/{session.pk}/")
    assert (again.content, again["ETag"], again["Content-Type"]) == (first.content, first["ETag"], "application/json")
    services.notes_update(session_id=session.pk, user=alice, notes="Meet at the bar")
    changed = alice_api.get(f"/api/sessions/{session.pk}/")
    assert changed["ETag"] != first["ETag"] and changed.json()["notes"] == "Meet at the bar"
