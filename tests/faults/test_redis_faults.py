"""Redis stopped or hung under a real gunicorn: reads still answer 200 (slower), writes are still whole."""

import statistics
import time
from datetime import timedelta

import pytest

from sessions_app.models import SessionEvent, WingmanSession
from sessions_app.services import notes_digest

from .conftest import assert_database_whole, flashes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

READS = 6


def break_redis(redis, how: str) -> None:
    redis.stop() if how == "stopped" else redis.hang()


def timed(call) -> tuple[float, object]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def read_both(alice_api, alice_page, session) -> list[float]:
    """GET the session through the API and the session page; every answer is 200 and shows the session."""
    times = []
    for _ in range(READS):
        elapsed, api = timed(lambda: alice_api.request("GET", f"/api/sessions/{session.pk}/"))
        assert api.status_code == 200, (api.status_code, api.text[:300])
        assert api.json()["id"] == str(session.pk)
        times.append(elapsed)
        elapsed, page = timed(lambda: alice_page.request("GET", f"/sessions/{session.pk}/"))
        assert page.status_code == 200, page.status_code
        assert "The Blue Door" in page.text
        times.append(elapsed)
    return times


@pytest.mark.reliability("fault", "Redis stopped or hung during session reads")
@pytest.mark.parametrize("how", ["stopped", "hung"])
def test_reads_still_answer(how, redis, alice_api, alice_page, session, record_property):
    healthy = read_both(alice_api, alice_page, session)
    break_redis(redis, how)
    broken = read_both(alice_api, alice_page, session)
    record_property("reliability", f"Redis {how}: {len(broken)} reads (API and page), all 200; median "
                    f"{statistics.median(broken) * 1000:.0f} ms against {statistics.median(healthy) * 1000:.0f} ms "
                    f"with Redis up, slowest {max(broken) * 1000:.0f} ms")
    assert max(broken) < 5


@pytest.mark.reliability("fault", "Redis stopped or hung during confirm and notes writes")
@pytest.mark.parametrize("how", ["stopped", "hung"])
def test_writes_wait_for_redis_and_are_whole(how, redis, alice_api, bob_page, alice_page, bob_api, make_session,
                                            alice, bob, record_property):
    """A write Redis cannot be told about would leave copies that hide it: it is refused, then retried once.

    (sessions_app/freshness.py: every write marks what it changes in Redis
    before it commits, so that no read serves a copy older than the write.)
    """
    due = make_session(starts_in=-timedelta(minutes=20))
    upcoming = make_session()
    for client, session in ((alice_api, due), (bob_api, upcoming)):  # copies in Redis that must not outlive a write
        assert client.request("GET", f"/api/sessions/{session.pk}/").status_code == 200
    break_redis(redis, how)
    started = time.monotonic()

    def confirm():
        return alice_api.request("POST", f"/api/sessions/{due.pk}/confirm/", headers={"Idempotency-Key": "c-1"})

    def notes():
        return bob_api.request("PATCH", f"/api/sessions/{upcoming.pk}/notes/", json={"notes": "Meet at 7"},
                               headers={"Idempotency-Key": "n-1", "If-Match": '"1"'})

    for refused in (confirm(), notes()):
        assert refused.status_code == 503, (refused.status_code, refused.text[:300])
        assert refused.json()["code"] == "cache_unavailable" and int(refused.headers["Retry-After"]) >= 1
    page = bob_page.post_form(f"/sessions/{due.pk}/confirm/")
    assert page.status_code == 503 and "try again" in page.text.lower(), page.status_code
    refused_in = time.monotonic() - started
    assert WingmanSession.objects.get(pk=due.pk).version == due.version  # nothing was written
    assert WingmanSession.objects.get(pk=upcoming.pk).version == upcoming.version

    redis.heal()
    confirmed = confirm()
    assert confirmed.status_code == 200, (confirmed.status_code, confirmed.text[:300])
    assert confirmed.json()["user2_completed_confirmed_by_user1"] is True
    assert confirm().json()["version"] == confirmed.json()["version"]  # the same key: done once
    completed = bob_page.post_form(f"/sessions/{due.pk}/confirm/")
    assert completed.status_code == 302, completed.status_code
    assert any(text.startswith("Session completed.") for text in flashes(completed)), flashes(completed)
    by_api = notes()
    assert by_api.status_code == 200, (by_api.status_code, by_api.text[:300])
    by_page = alice_page.post_form(f"/sessions/{upcoming.pk}/notes/", {
        "notes": "Meet at 7, by the door", "expected_version": by_api.json()["version"],
        "base_digest": notes_digest("Meet at 7")})
    assert by_page.status_code == 302 and flashes(by_page) == ["Notes saved."], (by_page.status_code,
                                                                                flashes(by_page))
    # The reads after the writes show them, from whichever worker answers.
    assert alice_api.request("GET", f"/api/sessions/{due.pk}/").json()["status"] == "completed"
    assert bob_api.request("GET", f"/api/sessions/{upcoming.pk}/").json()["notes"] == "Meet at 7, by the door"

    assert WingmanSession.objects.get(pk=due.pk).status == "completed"
    upcoming.refresh_from_db()
    assert upcoming.notes == "Meet at 7, by the door"
    assert SessionEvent.objects.filter(session=upcoming, kind="notes_updated").count() == 2
    assert_database_whole([due, upcoming], [alice, bob])
    record_property("reliability", f"Redis {how}: 3 writes (API and page) refused with 503 and Retry-After in "
                    f"{refused_in:.1f} s, nothing stored; after Redis returned, each stored once and read back")
