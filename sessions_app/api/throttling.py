"""Scoped rate limits kept in the default cache (Redis in production).

A view names a scope per action (``throttle_scopes = {"confirm": "confirm"}``)
or one for all (``throttle_scope``); the rates live in
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. Actions without a scope are not
limited here.

In Redis each scope and client has a sorted set of its request times,
trimmed, counted and added to by one Lua script: exact, atomic (two
requests at once cannot both take the last place) and one round trip
whatever the rate. (DRF's own throttle reads and writes a pickled list of
every request time in the window, which at a high rate cost more than the
request it limits.)

With Redis unreachable the limits still hold, per process: django-redis is
set to ignore connection errors (a dead Redis must not break reads), which
would make every throttle read an empty history and let everything through.
``ThrottleStore`` reads and writes through django-redis' client, which raises
instead, and on a failure keeps the counters in this process's memory for
``FALLBACK_SECONDS`` before trying Redis again. Each worker process then
allows the full rate on its own, so the site-wide limit is at most the rate
times the number of processes (README, THROTTLE_*).
"""

import logging
import time
import uuid

from django.core.cache import cache as shared_cache
from django.core.cache.backends.locmem import LocMemCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from .. import redis_calls
from ..proxies import client_ip

logger = logging.getLogger(__name__)

FALLBACK_SECONDS = 5.0

# KEYS[1]: the sorted set; ARGV: now, window seconds, limit, a unique member. Returns {allowed, oldest time}.
_COUNT_AND_ADD = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    return {0, oldest[2]}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return {1, oldest[2] or ARGV[1]}
"""


class ThrottleStore:
    """The shared cache, or this process's own while the shared one cannot be reached."""

    local = LocMemCache("wingman-throttle-fallback", {"MAX_ENTRIES": 10_000})
    shared_down_until = 0.0

    def _shared_client(self):
        # django-redis' client raises where its cache object swallows the error; other caches cannot fail so.
        return getattr(shared_cache, "client", None) if time.monotonic() >= ThrottleStore.shared_down_until else None

    def _fail_over(self, exc: Exception) -> None:
        if time.monotonic() >= ThrottleStore.shared_down_until:
            logger.warning("throttle counters kept per process: the shared cache is unreachable (%s)", exc)
        ThrottleStore.shared_down_until = time.monotonic() + FALLBACK_SECONDS

    def _local_key(self, key: str) -> str:
        # The shared cache's full key (its prefix and version), so separate configurations never mix.
        return shared_cache.make_key(key)

    def count_and_add(self, key: str, now: float, duration: float, limit: int) -> tuple[bool, float] | None:
        """In the shared Redis: (allowed, the oldest request time in the window), having counted this one
        if allowed. None when there is no shared Redis to ask (the caller keeps its own history)."""
        client = self._shared_client()
        if client is None:
            return None
        try:
            redis = client.get_client(write=True)
            allowed, oldest = redis_calls.script(redis, _COUNT_AND_ADD, [shared_cache.make_key(f"{key}:log")], [
                repr(now), repr(float(duration)), limit, f"{now!r}:{uuid.uuid4().hex[:8]}"])
        except (ConnectionInterrupted, RedisError) as exc:
            self._fail_over(exc)
            return None
        return bool(allowed), float(oldest)

    def get(self, key: str, default=None):
        if not hasattr(shared_cache, "client"):
            return shared_cache.get(key, default)
        client = self._shared_client()
        if client is not None:
            try:
                return client.get(key, default=default)
            except ConnectionInterrupted as exc:
                self._fail_over(exc)
        return self.local.get(self._local_key(key), default)

    def set(self, key: str, value, timeout) -> None:
        if not hasattr(shared_cache, "client"):
            shared_cache.set(key, value, timeout)
            return
        client = self._shared_client()
        if client is not None:
            try:
                client.set(key, value, timeout=timeout)
                return
            except ConnectionInterrupted as exc:
                self._fail_over(exc)
        self.local.set(self._local_key(key), value, timeout)


class ActionScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle whose scope may depend on the viewset action."""

    cache = ThrottleStore()

    def allow_request(self, request, view):
        scopes = getattr(view, "throttle_scopes", {})
        self.scope = scopes.get(getattr(view, "action", None)) or getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.oldest = None
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        counted = self.cache.count_and_add(self.key, self.now, self.duration, self.num_requests)
        if counted is None:  # no shared Redis: DRF's history list, in the local-memory cache
            return super(ScopedRateThrottle, self).allow_request(request, view)
        allowed, self.oldest = counted
        return allowed or self.throttle_failure()

    def wait(self):
        if self.oldest is None:
            return super().wait()
        return max(self.duration - (self.now - self.oldest), 1.0)  # when the oldest request leaves the window

    def get_rate(self):
        # Read at call time (not import time) so settings overrides take effect.
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        return super().get_rate()

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request):
        # DRF's own reads X-Forwarded-For from anyone; only a named proxy may speak for the client.
        return client_ip(request)
