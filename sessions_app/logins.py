"""Failed-login limits (django-axes): the one way to check a password, and the answer when it is locked.

Every password check goes through ``django.contrib.auth.authenticate`` with the
Django request: axes' backend (first in AUTHENTICATION_BACKENDS) refuses a
locked account or address before the password is looked at, its signal
handler counts each failure in the database (AccessAttempt, so the limits hold
with Redis down), and its middleware replaces the view's answer with
``lockout_response`` once the limit is reached. The login page and the admin
use Django's login form, the token endpoint simplejwt's serializer (handed the
Django request), and any other endpoint that asks for a password calls
``password_check``.

Limits (settings, from the environment): AXES_FAILURE_LIMIT failures within
AXES_COOLOFF_TIME, counted per username and, separately, per client address
(``sessions_app.proxies.client_ip``). A cool-off, never a permanent lock.
"""

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.contrib.auth import authenticate
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from .api.problems import problem_response
from .errorpages import _is_api


def http_request(request) -> HttpRequest:
    """The Django request behind a DRF one: axes marks a lockout on it for its middleware to see."""
    return getattr(request, "_request", request)


def password_check(*, request, username: str, password: str):
    """The user if the password is right and neither the account nor the address is locked, else None.

    Counts toward the login limits like any login; when the limit is reached
    the middleware answers 429 whatever the view returns.
    """
    return authenticate(request=http_request(request), username=username, password=password)


def retry_after_seconds(request: HttpRequest, credentials: dict | None) -> int:
    """Seconds until every limit this request hits has cooled off (an upper bound)."""
    cool_off = get_cool_off(request)
    limit = get_failure_limit(request, credentials)
    latest = None
    for attempts in AxesProxyHandler.get_implementation().get_user_attempts(request, credentials):
        summary = attempts.aggregate(failures=Sum("failures_since_start"), latest=Max("attempt_time"))
        if (summary["failures"] or 0) >= limit and summary["latest"] is not None:
            latest = summary["latest"] if latest is None else max(latest, summary["latest"])
    if latest is None:
        return math.ceil(cool_off.total_seconds())
    return max(1, math.ceil((latest + cool_off - timezone.now()).total_seconds()))


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After; problem+json under /api/, a readable page elsewhere."""
    retry_after = retry_after_seconds(request, credentials)
    minutes = max(1, math.ceil(retry_after / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if _is_api(request):
        response = problem_response(
            request, status=429, code="login_locked", title="Too many failed logins",
            detail=f"Too many failed logins for this account or from this address. Try again in {wait}.",
            retry_after=retry_after,
        )
    else:
        response = render(request, "registration/locked_out.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(retry_after)
    add_never_cache_headers(response)
    return response
