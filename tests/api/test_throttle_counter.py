"""The write throttles' shared counter (sessions_app/api/throttling.py): exact, atomic, bounded."""

import threading
import time

import pytest
from django.core.cache import cache

from sessions_app.api.throttling import ThrottleStore

from ..conftest import require_or_skip


@pytest.fixture
def store():
    require_or_skip(hasattr(cache, "client"), "the counter lives in Redis (REDIS_URL)", "WINGMAN_REQUIRE_REDIS")
    ThrottleStore.shared_down_until = 0.0
    return ThrottleStore()


def test_it_lets_exactly_the_limit_through_when_requests_race(store):
    answers, start = [], threading.Barrier(12)

    def one():
        start.wait()
        answers.append(store.count_and_add("throttle_race_test", time.time(), 60, 5)[0])

    threads = [threading.Thread(target=one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 7 + [True] * 5


def test_it_forgets_requests_that_left_the_window_and_keeps_no_more_than_the_limit(store):
    now = time.time()
    for offset in range(3):
        assert store.count_and_add("throttle_window_test", now - 120 + offset, 60, 3)[0]
    assert not store.count_and_add("throttle_window_test", now - 110, 60, 3)[0]  # the fourth within a minute
    allowed, oldest = store.count_and_add("throttle_window_test", now, 60, 3)
    assert allowed and oldest == pytest.approx(now)  # the old three left the window
    assert store.count_and_add("throttle_window_test", now + 1, 60, 3)[0]
    assert store.count_and_add("throttle_window_test", now + 2, 60, 3)[0]
    allowed, oldest = store.count_and_add("throttle_window_test", now + 3, 60, 3)
    assert not allowed and oldest == pytest.approx(now)  # refused until the oldest leaves the window
    redis = cache.client.get_client(write=True)
    assert redis.zcard(cache.make_key("throttle_window_test:log")) == 3
