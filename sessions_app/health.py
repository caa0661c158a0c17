"""Health endpoints for the load balancer and the orchestrator.

- /healthz (liveness): the process answers. It touches nothing else, so a
  database outage never gets healthy app servers restarted.
- /readyz (readiness): the database and the cache answer. 200 with
  {"database": "ok", "cache": "ok"}, else 503 application/problem+json naming
  what failed, so the balancer stops sending traffic here meanwhile.

The cache check talks to Redis through the raw client: the cache backend
itself is configured to swallow Redis errors (a dead Redis must only slow
reads down), which would hide exactly what readiness has to report.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .api.problems import problem_response

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
DATABASE_ALIAS = "default"


def check_database() -> None:
    """Raise unless the database answers a trivial query."""
    with connections[DATABASE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    """Raise unless the cache stores and returns a value.

    With django-redis this goes through the real Redis client (PING, then a
    SET/GET round trip), bypassing IGNORE_EXCEPTIONS; other backends get a
    set/get through the cache API.
    """
    alias = CACHE_ALIAS
    key = f"readyz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    if settings.CACHES[alias]["BACKEND"].startswith("django_redis."):
        from django_redis import get_redis_connection

        client = get_redis_connection(alias)
        client.ping()
        client.set(key, value, ex=10)
        stored = client.get(key)
        client.delete(key)
        stored = stored.decode() if isinstance(stored, bytes) else stored
    else:
        cache = caches[alias]
        cache.set(key, value, 10)
        stored = cache.get(key)
        cache.delete(key)
    if stored != value:
        raise RuntimeError("the cache did not return the value just stored")


CHECKS = {"database": check_database, "cache": check_cache}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # whatever the driver raises, the answer is "not ready"
            logger.warning("readiness check %s failed: %s", name, error)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    failed = [name for name, result in results.items() if result != "ok"]
    if not failed:
        return JsonResponse(results)
    return problem_response(
        request,
        status=503,
        code="dependency_unavailable",
        title="Not ready",
        detail=f"Unavailable: {', '.join(failed)}.",
        checks=results,
        headers={"Retry-After": "5"},
    )


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
