"""Query budgets per read endpoint, with JWT and with the session cookie (cold cache: the worst case).

Run with -s to see the measured counts.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from sessions_app import services
from tests.conftest import api_client

# (with JWT, with the session cookie and a cold cache). The cookie's worst case adds the
# django_session row; date filters add the caller's profile (their time zone). A filtered list
# counts, and reads the participants of its page in a query of their own (a join of four more
# tables cost PostgreSQL more to plan than the second query costs to run).
BUDGETS = {
    "/api/sessions/{id}/": (4, 4),
    "/api/session/{id}": (4, 4),
    "/api/sessions/current/": (4, 4),
    "/api/sessions/{id}/calendar.ics": (4, 4),
    "/api/sessions/": (4, 4),
    "/api/sessions/?status=scheduled&ordering=scheduled_time": (4, 5),
    "/api/sessions/?date_from=2020-01-01&date_to=2099-12-31": (4, 5),
    "/api/matches/": (4, 4),
    "/api/challenges/": (4, 4),
    "/api/me/": (3, 3),
    "/api/me/stats/": (3, 3),
    "/api/sessions/{id}/events/": (4, 5),  # participant check + count + page
}


@pytest.fixture
def busy_alice(alice, bob, make_session):
    """alice with 30 sessions, one of them with a timeline."""
    sessions = [make_session(starts_in=timedelta(days=day + 1)) for day in range(30)]
    for text in ("a", "b", "c"):
        services.notes_update(session_id=sessions[0].pk, user=bob, notes=text)
    return sessions[0]


def cookie_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.parametrize("auth", ["jwt", "cookie"])
@pytest.mark.parametrize("path", list(BUDGETS))
def test_it_stays_within_the_query_budget(busy_alice, alice, auth, path, go_cold):
    client = api_client(alice) if auth == "jwt" else cookie_client(alice)
    url = path.format(id=busy_alice.pk)
    go_cold()  # cold: session row, user session and throttles all from scratch
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    print(f"\n{auth:6s} {len(queries):2d} queries  GET {path}")
    budget = BUDGETS[path][0 if auth == "jwt" else 1]
    assert len(queries) <= budget, [q["sql"][:120] for q in queries]


def test_the_trust_fields_add_no_query(alice, bob, make_session, go_cold):
    """A session with a pending proposal, one with an open dispute, both participants with a reliability:
    the full session still costs the budget of /api/sessions/{id}/, cold and warm."""
    from django.utils import timezone

    from sessions_app.models import UserProfile

    proposed = make_session()
    services.session_reschedule_propose(session_id=proposed.pk, user=bob,
                                        scheduled_time=timezone.now() + timedelta(days=2))
    disputed = make_session(starts_in=timedelta(days=4))
    services.session_cancel(session_id=disputed.pk, user=alice, reason="ill")
    services.session_dispute(session_id=disputed.pk, user=bob, reason="unfair")
    UserProfile.objects.filter(pk__in=[alice.pk, bob.pk]).update(reliability_percent=90)
    client = api_client(alice)
    for session, field in ((proposed, "reschedule"), (disputed, "dispute")):
        go_cold()
        for budget in (BUDGETS["/api/sessions/{id}/"][0], 2):  # cold, then the cached copy
            with CaptureQueriesContext(connection) as queries:
                body = client.get(f"/api/sessions/{session.pk}/").json()
            assert body[field] is not None and body["participants"]["user2"]["reliability_percent"] == 90
            print(f"\n{len(queries):2d} queries  GET /api/sessions/{{id}}/ with {field}")
            assert len(queries) <= budget, [q["sql"][:120] for q in queries]
