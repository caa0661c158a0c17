"""Write throttles keep limiting with Redis unreachable (per process, sessions_app/api/throttling.py).

django-redis ignores connection errors, so the shared counters read empty;
the throttle notices and counts in the process instead. (Session writes
themselves wait for Redis, sessions_app/freshness.py: each answer is a 503
that changes nothing, but it is counted, and the 31st is throttled first.)
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.settings import api_settings

from sessions_app.models import WingmanSession

from .conftest import assert_problem

CONFIRM_RATE = 30


@pytest.mark.reliability("fault", "Redis down during write throttling")
def test_it_throttles_the_31st_confirm_in_a_minute(request, alice_api, make_session, unchanged, record_property):
    sessions = [make_session(starts_in=-timedelta(minutes=20 + n)) for n in range(CONFIRM_RATE + 1)]
    request.getfixturevalue("redis_down")
    started = time.monotonic()
    with unchanged():
        answers = [alice_api.post(f"/api/sessions/{s.pk}/confirm/") for s in sessions[:CONFIRM_RATE]]
        response = alice_api.post(f"/api/sessions/{sessions[-1].pk}/confirm/")
    elapsed = time.monotonic() - started
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(503, "cache_unavailable")] * CONFIRM_RATE
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not WingmanSession.objects.filter(user2_completed_confirmed_by_user1=True).exists()
    record_property("reliability", f"{CONFIRM_RATE + 1} confirms with Redis down: {CONFIRM_RATE} × 503 "
                                   f"cache_unavailable (nothing changed), then 1 × 429 with Retry-After, "
                                   f"{elapsed:.1f} s")


@pytest.mark.reliability("fault", "Redis down during write throttling")
def test_it_throttles_token_requests(request, anon, alice, bob):
    request.getfixturevalue("redis_down")
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/min"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        answers = [anon.post("/api/auth/token/", {"username": name, "password": "nope"}).status_code
                   for name in ("alice", "bob", "carol")]
        response = anon.post("/api/auth/token/", {"username": "dave", "password": "nope"})
    assert answers == [401, 401, 401]
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
