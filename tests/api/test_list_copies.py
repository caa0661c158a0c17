"""Pages of the history list kept in Redis (freshness.lookup_list) are never older than a committed write.

A page is stored by the second read that sees it (the first records who is
on it) and then sent without a query, until any of the caller's sessions,
the caller, or anyone on the page changes. Real commits and the shared
Redis, as in tests/services/test_freshness.py.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from sessions_app import services

from ..conftest import api_client, require_or_skip

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PATH = "/api/sessions/?limit=2"


@pytest.fixture(autouse=True)
def _needs_redis():
    require_or_skip(settings.FRESHNESS_MARKERS, "list pages are kept only in a shared Redis (REDIS_URL)",
                    "WINGMAN_REQUIRE_REDIS")


@pytest.fixture
def three(make_session):
    return [make_session(starts_in=timedelta(days=days)) for days in (1, 2, 3)]


def kept(client, path=PATH) -> dict:
    """Read until the page is kept: the first read records who is on it, the second stores it."""
    client.get(path)
    return client.get(path).json()


def test_a_kept_page_is_sent_without_a_query(three, alice, django_assert_num_queries):
    client = api_client(alice)
    before = kept(client)
    with django_assert_num_queries(0):
        response = client.get(PATH)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == before
    assert before["count"] == 3 and len(before["results"]) == 2


def test_a_buddys_write_shows_on_the_next_read(three, alice, bob):
    """Notes move no counter of either profile: only the list's own generation can tell the page is old."""
    client = api_client(alice)
    before = {item["id"]: item["version"] for item in kept(client)["results"]}
    newest = three[-1]
    services.notes_update(session_id=newest.pk, user=bob, notes="Meet at the north door.")
    after = {item["id"]: item["version"] for item in client.get(PATH).json()["results"]}
    assert after[str(newest.pk)] == before[str(newest.pk)] + 1


def test_a_cancellation_shows_on_the_next_read(three, alice, bob):
    client = api_client(alice)
    kept(client)
    services.session_cancel(session_id=three[-1].pk, user=bob, reason="Rain.")
    after = client.get(PATH).json()
    assert {item["id"]: item["status"] for item in after["results"]}[str(three[-1].pk)] == "cancelled"


def test_a_new_session_shows_on_the_next_read(three, alice, bob, match, easy_challenge, hard_challenge):
    client = api_client(alice)
    assert kept(client)["count"] == 3
    made = services.session_schedule(
        user=bob, match_id=match.pk, venue_name="The Green Door", scheduled_time=timezone.now() + timedelta(days=9),
        user1_challenge_id=easy_challenge.pk, user2_challenge_id=hard_challenge.pk,
    )
    after = client.get(PATH).json()
    assert after["count"] == 4 and after["results"][0]["id"] == str(made.pk)


def test_a_renamed_buddy_shows_on_the_next_read(three, alice, bob):
    client = api_client(alice)
    kept(client)
    bob.profile.display_name = "Robert"
    bob.profile.save()
    after = client.get(PATH).json()
    assert {item["participants"]["user2"]["name"] for item in after["results"]} == {"Robert"}


def test_each_page_and_each_host_is_kept_apart(three, alice):
    client = api_client(alice)
    first, second = kept(client), kept(client, "/api/sessions/?limit=2&offset=2")
    assert [item["id"] for item in first["results"]] == [str(three[2].pk), str(three[1].pk)]
    assert [item["id"] for item in second["results"]] == [str(three[0].pk)]
    elsewhere = client.get(PATH, HTTP_HOST="localhost").json()
    assert elsewhere["next"].startswith("http://localhost/") and first["next"].startswith("http://testserver/")


def test_another_caller_never_gets_someone_elses_page(three, alice, carol):
    kept(api_client(alice))
    body = api_client(carol).get(PATH).json()
    assert body["count"] == 0 and body["results"] == []


def test_a_refused_filter_is_not_kept(three, alice):
    client = api_client(alice)
    for _ in range(3):
        response = client.get("/api/sessions/?status=bogus")
        assert response.status_code == 422


def test_a_caller_keeps_a_bounded_number_of_pages(three, alice, django_assert_num_queries):
    """Any query string is a page of its own: a caller asking for many cannot fill Redis."""
    from sessions_app import freshness

    client = api_client(alice)
    for limit in range(1, freshness.PAGES_KEPT + 5):
        kept(client, f"/api/sessions/?limit={limit}")
    pages = freshness._client().hlen(freshness._key(f"copy:l:{alice.pk}"))
    assert 1 <= pages <= freshness.PAGES_KEPT
    kept(client)
    with django_assert_num_queries(0):
        assert client.get(PATH).status_code == 200  # the newest page is kept
