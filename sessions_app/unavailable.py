"""When the database cannot answer: a quick 503 telling the client to retry, never a 500 or a hung worker.

``database_fault`` is the one place that decides what a database exception
means for the client: *busy* (a lock or statement timeout, see
DB_LOCK_TIMEOUT_MS in wingman/settings.py; SQLite's "database is locked"),
*unavailable* (refused, dropped or killed connections), or a write refused
because Redis could not be told to stop serving copies of what it changes
(sessions_app/freshness.py). Everything else is not a fault of this kind
and stays a 500 (a bug to fix).

Three hooks use it, each answering through ``sessions_app.errorpages.service_unavailable``
(problem+json under /api/, the friendly 503 page elsewhere):
the API's exception handler (sessions_app/api/problems.py), the
``DatabaseUnavailableMiddleware`` for page views, and the site's 500 handler
for what breaks in a middleware outside any view.
"""

import logging
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError

from .freshness import CacheUnavailable

logger = logging.getLogger(__name__)

# PostgreSQL error codes of the web timeouts: lock_not_available (lock_timeout)
# and query_canceled (statement_timeout).
BUSY_SQLSTATES = frozenset({"55P03", "57014"})


@dataclass(frozen=True)
class DatabaseFault:
    code: str
    title: str
    detail: str
    retry_after: int  # seconds, sent as Retry-After


BUSY = DatabaseFault(
    code="database_busy",
    title="Busy, try again",
    detail="The database is busy with another change to the same data; nothing was changed. "
           "Try again in a moment.",
    retry_after=2,
)
UNAVAILABLE = DatabaseFault(
    code="service_unavailable",
    title="Service unavailable",
    detail="The database did not answer, so the change was most likely not made. Try again in a moment; "
           "send the same Idempotency-Key to be sure it happens once.",
    retry_after=5,
)
CACHE_UNAVAILABLE = DatabaseFault(
    code="cache_unavailable",
    title="Service unavailable",
    detail="The change was not made: the cache that keeps everyone's view current did not answer. "
           "Try again in a moment; send the same Idempotency-Key to be sure it happens once.",
    retry_after=5,
)


def database_fault(exc: BaseException | None) -> DatabaseFault | None:
    """BUSY, UNAVAILABLE or CACHE_UNAVAILABLE for a fault the client should retry; None for anything else."""
    if isinstance(exc, CacheUnavailable):
        return CACHE_UNAVAILABLE
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    if getattr(exc.__cause__, "sqlstate", None) in BUSY_SQLSTATES or "database is locked" in str(exc):
        return BUSY
    return UNAVAILABLE


class DatabaseUnavailableMiddleware:
    """A page view that hits a database fault answers the 503 page with Retry-After instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        fault = database_fault(exception)
        if fault is None:
            return None
        from .errorpages import service_unavailable

        logger.warning("database %s on %s %s: %s", fault.code, request.method, request.path, exception)
        return service_unavailable(request, fault)
