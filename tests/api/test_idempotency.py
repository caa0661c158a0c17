"""Idempotency-Key: a repeat replays the first answer without doing the work again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import IdempotencyRecord, SessionEvent, WingmanSession
from tests.conftest import api_client, at_once, on_postgres, require_or_skip

from .conftest import assert_problem


def test_it_replays_a_repeated_mutation(alice_api, due_session):
    first = alice_api.post(f"/api/sessions/{due_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="k-1")
    second = alice_api.post(f"/api/sessions/{due_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["ETag"] == first["ETag"]
    assert SessionEvent.objects.filter(kind="confirmed").count() == 1
    assert WingmanSession.objects.get().version == 2


def test_it_replays_a_created_session_once(alice_api, match, easy_challenge, hard_challenge):
    body = {"match_id": str(match.pk), "venue_name": "Cafe", "user1_challenge_id": str(easy_challenge.pk),
            "user2_challenge_id": str(hard_challenge.pk),
            "scheduled_time": (timezone.now() + timedelta(days=1)).isoformat()}
    first = alice_api.post("/api/session/create", body, HTTP_IDEMPOTENCY_KEY="create-1")
    second = alice_api.post("/api/session/create", body, HTTP_IDEMPOTENCY_KEY="create-1")
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second["Location"] == first["Location"]
    assert WingmanSession.objects.count() == 1


def test_it_refuses_the_same_key_with_a_different_body(alice_api, session, unchanged):
    alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "a"}, HTTP_IDEMPOTENCY_KEY="n-1")
    with unchanged():
        problem = assert_problem(
            alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "b"}, HTTP_IDEMPOTENCY_KEY="n-1"),
            422, "invalid_input",
        )
    assert "Idempotency-Key" in problem["errors"]
    assert WingmanSession.objects.get().notes == "a"


def test_it_replays_a_refusal_too(alice_api, session, unchanged):
    first = alice_api.post(f"/api/sessions/{session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="early")
    assert_problem(first, 400, "confirm_too_early")
    with unchanged():
        second = alice_api.post(f"/api/sessions/{session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="early")
    assert_problem(second, 400, "confirm_too_early")
    assert second["Idempotent-Replayed"] == "true"


def test_it_keeps_keys_apart_per_user(alice_api, bob_api, due_session):
    alice_api.post(f"/api/sessions/{due_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="same")
    response = bob_api.post(f"/api/sessions/{due_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert not response.has_header("Idempotent-Replayed")


def test_it_forgets_keys_after_24_hours(alice_api, alice, due_session):
    alice_api.post(f"/api/sessions/{due_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = alice_api.post(f"/api/sessions/{due_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="old")
    assert_problem(response, 409, "already_confirmed")  # the work was attempted again, not replayed
    assert IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - timedelta(hours=24)).count() == 0


def test_it_refuses_a_malformed_key(alice_api, due_session, unchanged):
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="x" * 256),
                       422, "invalid_input")


def test_without_a_key_a_second_confirm_is_409(alice_api, due_session, unchanged):
    alice_api.post(f"/api/sessions/{due_session.pk}/confirm/")
    with unchanged():
        assert_problem(alice_api.post(f"/api/sessions/{due_session.pk}/confirm/"), 409, "already_confirmed")


@pytest.mark.postgres
@pytest.mark.reliability("race", "four repeats of one Idempotency-Key at the same instant")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_does_the_work_once_when_repeats_race(alice, make_session, record_property):
    require_or_skip(on_postgres(), "concurrency tests need PostgreSQL (SQLite serialises every write)",
                    "WINGMAN_REQUIRE_POSTGRES")
    session = make_session(starts_in=-timedelta(minutes=20))
    answers = at_once(  # each with a client of its own
        lambda: api_client(alice).post(f"/api/sessions/{session.pk}/confirm/", HTTP_IDEMPOTENCY_KEY="race"), 4)
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.content for a in answers}) == 1
    assert sum(a.has_header("Idempotent-Replayed") for a in answers) == 3
    assert SessionEvent.objects.filter(session=session, kind="confirmed").count() == 1
    replayed = sum(a.has_header("Idempotent-Replayed") for a in answers)
    bodies = len({a.content for a in answers})
    record_property("reliability", f"{len(answers)} concurrent confirms with one key: "
                    f"{sum(a.status_code == 200 for a in answers)} × 200 with {bodies} body, {replayed} replayed, "
                    f"{SessionEvent.objects.filter(session=session, kind='confirmed').count()} confirmed event")
