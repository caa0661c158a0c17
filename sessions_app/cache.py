"""The Redis copy of session reads.

A cached session is only ever used together with its version, read from the
database (one indexed query), so a lost invalidation can never serve a stale
session; forgetting after each commit just keeps the cache small and warm.
Every cache call tolerates a dead Redis (django-redis IGNORE_EXCEPTIONS).
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

SESSION_CACHE_SECONDS = 300


def session_cache_key(session_id) -> str:
    return f"session:v1:{session_id}"


def session_cache_forget(session_id) -> None:
    try:
        cache.delete(session_cache_key(session_id))
    except Exception:  # the locmem backend never fails; a broken Redis client might
        logger.warning("could not forget cached session %s", session_id, exc_info=True)
