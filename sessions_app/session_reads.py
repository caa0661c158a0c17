"""Repeated reads of one session, answered early when one Redis call shows what the view would send.

Participants poll their session: API clients with GET and If-None-Match,
the session page's panel with HTMX every few seconds. Most polls are
answered 304, and most API reads that are not get JSON already rendered
for the same ETag. Going through the rest of the middleware, DRF and the
view cost three quarters of such an answer, so SessionReadMiddleware answers
these itself:

- the API's ``GET /api/session/{id}`` and ``GET /api/sessions/{id}/`` with
  no query string and an Accept that picks JSON (none, ``*/*``,
  ``application/json``), and either a bearer token and no cookie
  (simplejwt's checks of the token and the user, active and password
  unchanged, run through the same authentication class as in DRF) or the
  session cookie and no Authorization header (the user from Django's
  ``auth.get_user``, as DRF's SessionAuthentication);
- the page's HTMX poll, ``GET /sessions/{id}/`` with ``HX-Request`` and the
  session cookie, no query string: the user comes from Django's own
  ``auth.get_user`` (the session's password hash is checked as always).

One Redis call (freshness.prefetch) brings the session, its participants'
copies and, for a cookie, the login session's data (where the cached_db
engine keeps it). The session counts only as a current copy, for a
participant (selectors.session_copy_for_participant: the same rule as the
views, no query), and the ETag comes from the same function as the view's. When it matches
If-None-Match the answer is 304; otherwise the API's answer is the JSON kept
in ``rendered`` under that ETag by the view that rendered it (200). The
headers are those the view gave its last answer of the same route, kind
and status in this process, with the ETag computed now: until the view has
answered once, nothing is answered early, and an answer that set a cookie
is never copied. Anything else, any doubt, goes on to the view, which
answers as always (401, 403, 404, the database read when the copy is not
current, the page itself).
"""

import uuid

from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.core.cache import caches
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.exceptions import APIException

from . import freshness, rules, selectors
from .conditional import etag_matches, panel_etag, participant_view
from .lru import Lru

RENDERED_SESSIONS_KEPT = 500
rendered = Lru(RENDERED_SESSIONS_KEPT)  # (ETag, media type) -> the JSON bytes of that full session

JSON_ACCEPTS = ("", "*/*", "application/json")
_routes = Lru(2_000)  # path -> (route name, session id), or () for a path that is no session read
_answered: dict = {}  # (route name, kind, status) -> the view's headers for it, without the ETag
_NOT_COPIED = frozenset({"etag", "content-length"})


class SessionReadMiddleware:
    """After SessionMiddleware, CommonMiddleware (host check, Content-Length) and XFrameOptionsMiddleware."""

    # route name -> (the path's keyword for the session id, how to answer early)
    ROUTES = {"api:session-detail": ("pk", "api"), "api:legacy-session": ("session_id", "api"),
              "session_detail": ("session_id", "panel")}

    def __init__(self, get_response):
        from .api.authentication import ProfileJWTAuthentication

        self.get_response = get_response
        self.bearer = ProfileJWTAuthentication()

    def __call__(self, request):
        kind = self.kind(request)
        route = _route(request.path_info, self.ROUTES) if kind else ()
        if not route or self.ROUTES[route[0]][1] != kind[0]:
            return self.get_response(request)
        name, session_id = route
        answer = self.answer(request, name, kind, session_id)
        if answer is not None:
            return answer
        response = self.get_response(request)
        if response.status_code in (200, 304) and response.has_header("ETag") and not response.cookies:
            _answered[(name, kind, response.status_code)] = [
                (header, value) for header, value in response.items() if header.lower() not in _NOT_COPIED
            ]
        return response

    @staticmethod
    def kind(request) -> tuple | None:
        """What may be answered early: ("api", Accept, "bearer" or "cookie"), ("panel",); else None."""
        meta = request.META
        if request.method != "GET" or meta.get("QUERY_STRING"):
            return None
        if request.path_info.startswith("/api/session"):
            accept = meta.get("HTTP_ACCEPT", "")
            if accept not in JSON_ACCEPTS:
                return None
            # As DRF tries them: a bearer token first; the session cookie only without an Authorization header.
            if meta.get("HTTP_AUTHORIZATION"):
                return None if meta.get("HTTP_COOKIE") else ("api", accept, "bearer")
            return ("api", accept, "cookie") if meta.get("HTTP_COOKIE") else None
        if request.path_info.startswith("/sessions/") and request.headers.get("HX-Request") == "true":
            return ("panel",) if meta.get("HTTP_COOKIE") else None
        return None

    def answer(self, request, name: str, kind: tuple, session_id: uuid.UUID):
        if (name, kind, 304) not in _answered and (name, kind, 200) not in _answered:
            return None
        login_key = None if kind[-1] == "bearer" else _login_session_key(request)
        # One Redis call: the session, its participants' copies, and the login session's data. Copies
        # only: no database read here (the view does it when there is no current copy); the user and
        # the session are only checked and digested, never changed.
        with freshness.prefetch(session_id=session_id, also=(login_key,) if login_key else (),
                                copies_only=True) as fetched:
            if freshness.prefetch_failed():
                return None  # Redis is not answering: the view answers, from the database
            if fetched.get(login_key) is not None:
                # What SessionStore.load() would have read from the same key (the cached_db engine).
                request.session._session_cache = caches[settings.SESSION_CACHE_ALIAS].client.decode(
                    fetched[login_key])
            user = self.reader(request, kind)
            if user is None:
                return None
            session = selectors.session_copy_for_participant(session_id=session_id, user=user)
        if session is None:
            return None
        now = timezone.now()
        if kind[0] == "panel":  # as views.session_detail makes it
            etag = panel_etag(session, user, rules.allowed_actions(session, user, now))
        else:  # as the API's session_response makes it
            _, etag = participant_view(session, user, now)
        if etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
            headers = _answered.get((name, kind, 304))
            response = HttpResponseNotModified() if headers else None
        elif kind[0] == "api" and (headers := _answered.get((name, kind, 200))):
            body = rendered.get((etag, dict(headers).get("Content-Type", "")))
            response = HttpResponse(body) if body is not None else None
        else:
            response = None
        if response is None:
            return None
        for header, value in headers:
            response[header] = value
        response["ETag"] = etag
        request.user = user  # as authentication would leave it (the request's log line names the user)
        return response

    def reader(self, request, kind: tuple):
        """The authenticated user, checked as DRF's or Django's authentication would; None: let the view answer."""
        if kind[-1] == "bearer":
            try:
                authenticated = self.bearer.authenticate(request)
            except APIException:
                return None  # the view answers the refusal
            return authenticated[0] if authenticated else None
        user = auth.get_user(request)  # what AuthenticationMiddleware and DRF's SessionAuthentication use
        return user if user.is_authenticated and user.is_active else None


def _login_session_key(request) -> str | None:
    """The Redis key of the login session's data, where Django's cached_db engine keeps it; else None."""
    if (settings.SESSION_ENGINE != "django.contrib.sessions.backends.cached_db"
            or not settings.CACHES[settings.SESSION_CACHE_ALIAS]["BACKEND"].startswith("django_redis.")):
        return None
    session_key = request.session.session_key  # the cookie's value, if it is a valid key
    return None if session_key is None else caches[settings.SESSION_CACHE_ALIAS].make_key(KEY_PREFIX + session_key)


def _route(path: str, routes: dict) -> tuple:
    route = _routes.get(path)
    if route is None:
        route = ()
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match is not None and match.view_name in routes:
            try:
                route = (match.view_name, uuid.UUID(str(match.kwargs[routes[match.view_name][0]])))
            except ValueError:
                pass  # a malformed id: the view answers it
        _routes.put(path, route)
    return route
