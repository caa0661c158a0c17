"""Repeated reads of one session, answered before Django when one Redis call shows what the view would send.

Participants poll their session: API clients with GET and If-None-Match,
the session page's panel with HTMX every few seconds. Most polls are
answered 304, and most API reads that are not get JSON already rendered
for the same ETag. Django's handler, its middleware, DRF and the view cost
most of such an answer, so EarlySessionReads, a WSGI layer in front of
Django's handler (wingman/wsgi.py), answers these itself:

- the API's ``GET /api/session/{id}`` and ``GET /api/sessions/{id}/`` with
  no query string and no body, and an Accept that picks JSON (none, ``*/*``,
  ``application/json``), and either a bearer token and no cookie
  (simplejwt's checks of the token and the user, active and password
  unchanged, run through the same authentication class as in DRF) or the
  session cookie and no Authorization header (the user from Django's
  ``auth.get_user``, as DRF's SessionAuthentication);
- the page's HTMX poll, ``GET /sessions/{id}/`` with ``HX-Request`` and the
  session cookie, no query string: the user comes from Django's own
  ``auth.get_user`` (the session's password hash is checked as always);
- a page of the API's list, ``GET /api/sessions/?...`` with a bearer token
  and no cookie: the JSON the list view keeps in Redis for that reader and
  that address (freshness.lookup_list), while it is current;
- the caller's statistics, ``GET /api/me/stats/`` with a bearer token, no
  cookie and no query string: built from the caller's current copy (the
  counters on the profile) by the view's own function
  (serializers.stats_of) and rendered by DRF's JSONRenderer, as the view
  does.

What the middleware above the view does to a request, these answers get
too, from the same code: the request id and the log line
(observability.log_request), the proxy rule (proxies), and the
``process_request`` of SecurityMiddleware (the https redirect),
SessionMiddleware and CommonMiddleware (the host check): when any of them
would answer, Django answers. One Redis call (freshness.prefetch) brings the
session, its participants' copies and, for a cookie, the login session's
data (where the cached_db engine keeps it). The session counts only as a
current copy, for a participant (selectors.session_copy_for_participant: the
same rule as the views, no query), and the ETag comes from the same function
as the view's. When it matches If-None-Match the answer is 304; otherwise
the API's answer is the JSON kept in ``rendered`` under that ETag by the
view that rendered it (200). When Redis does not answer here, Django
answers the request in a block whose lookups do not ask Redis again.

The headers are those Django sent with its last answer of the same route,
kind, status and scheme in this process, as they left its last middleware
(security, CSP, Permissions-Policy, Vary...), with the ETag, Content-Length
and request id of this answer: until Django has answered once, nothing is
answered early, and an answer that set a cookie or carried a CSP nonce is
never copied. Anything else, any doubt, goes on to Django and the view,
which answer as always (401, 403, 404, the database read when the copy is
not current, the page itself).
"""

import contextlib
import logging
import time
import uuid
from http import HTTPStatus

from django.conf import settings
from django.contrib import auth
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIRequest
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer

from . import freshness, rules, selectors
from .api.serializers import stats_of
from .conditional import etag_matches, panel_etag, participant_view
from .lru import Lru
from .observability import REQUEST_ID_HEADER, incoming_request_id, log_request, request_id_var
from .proxies import forget_untrusted_forwarded_headers

logger = logging.getLogger(__name__)

RENDERED_SESSIONS_KEPT = 500
rendered = Lru(RENDERED_SESSIONS_KEPT)  # (ETag, media type) -> the JSON bytes of that full session

JSON_ACCEPTS = ("", "*/*", "application/json")
# route name -> (the path's keyword for the session id, how to answer early)
ROUTES = {"api:session-detail": ("pk", "api"), "api:legacy-session": ("session_id", "api"),
          "session_detail": ("session_id", "panel"), "api:session-list": (None, "list"),
          "api:me-stats": (None, "stats")}
_routes = Lru(2_000)  # path -> (route name, session id), or () for a path that is no session read
# (route name, kind) -> {(status, https): the headers Django sent with such an answer}, as (name, value)
# pairs in its order, the value None where each answer has its own (ETag, Content-Length, X-Request-ID)
_answered: dict = {}
_PER_ANSWER = frozenset({"etag", "content-length", REQUEST_ID_HEADER.lower()})
_STATUS_LINES = {status: f"{status} {HTTPStatus(status).phrase}" for status in (200, 304)}


class EarlySessionReads:
    """The WSGI application gunicorn serves: early session reads, and Django's handler for everything else."""

    def __init__(self, django_application):
        self.django_application = django_application
        self.before_view = before_view()  # read from the settings once, as Django loads its middleware

    def __call__(self, environ, start_response):
        early = offer(environ, self.before_view)
        if early is None:
            return self.django_application(environ, start_response)
        answer = early.answer()
        if answer is not None:
            status, headers, body = answer
            start_response(_STATUS_LINES[status], headers)
            return [body]

        def learning(status, headers, exc_info=None):
            early.learn(int(status[:3]), headers)
            return start_response(status, headers, exc_info)

        with early.handover():
            return self.django_application(environ, learning)


def before_view() -> tuple:
    """What Django's middleware above the view does to a request before it, as they stand in MIDDLEWARE: the
    ``process_request`` of SecurityMiddleware (the https redirect, which answers instead), SessionMiddleware
    (the login session, for a cookie) and CommonMiddleware (the host check, which answers instead)."""
    def unused(request):
        raise AssertionError("only process_request is called")

    return tuple(middleware(unused).process_request
                 for middleware in (SecurityMiddleware, SessionMiddleware, CommonMiddleware))


def offer(environ: dict, before_view: tuple) -> "EarlyRead | None":
    """The request as an early read, if it is the kind that can be answered before Django; else None."""
    kind = _kind(environ)
    if kind is None:
        return None
    request = WSGIRequest(environ.copy())  # it rewrites PATH_INFO in its META: Django's own request reads it
    forget_untrusted_forwarded_headers(request.META)  # before anything asks is_secure(), learning included
    route = _route(request.path_info)
    if not route or ROUTES[route[0]][1] != kind[0]:
        return None
    return EarlyRead(request, *route, kind, before_view)


class EarlyRead:
    """One request that may be answered early: ``answer()`` it, or hand it to Django and ``learn()`` from it."""

    def __init__(self, request: WSGIRequest, name: str, session_id: uuid.UUID | None, kind: tuple,
                 before_view: tuple):
        self.request, self.name, self.session_id, self.kind = request, name, session_id, kind
        self.before_view = before_view
        self.redis_failed = False

    def answer(self) -> tuple | None:
        """(status, headers, body) as Django would send them, or None: Django answers."""
        learnt = _answered.get((self.name, self.kind))
        if not learnt:
            return None  # until Django has answered this kind of read once
        started = time.perf_counter()
        request_id = incoming_request_id(self.request.META.get("HTTP_X_REQUEST_ID"))
        token = request_id_var.set(request_id)
        try:
            try:
                answer = self._answer(learnt, request_id)
            except Exception:  # a fault here must not cost the request: Django answers it
                logger.exception("early session read failed; Django answers")
                return None
            if answer is not None:
                log_request(self.request, answer[0], started)
            return answer
        finally:
            request_id_var.reset(token)

    def _answer(self, learnt: dict, request_id: str) -> tuple | None:
        request, kind = self.request, self.kind
        https_redirect, login_session, host_check = self.before_view
        if https_redirect(request) is not None:
            return None  # Django answers with its redirect
        if kind[-1] != "bearer":  # with no cookie, the login session would be an empty one nobody reads
            login_session(request)
        if host_check(request) is not None:
            return None  # a host not allowed, a user agent refused: Django answers
        secure = request.is_secure()
        if (304, secure) not in learnt and (200, secure) not in learnt:
            return None
        if kind[0] == "list":
            answer = self._page_of_list(learnt.get((200, secure)))
        elif kind[0] == "stats":
            answer = self._stats(learnt.get((200, secure)))
        else:
            answer = self._session(learnt, secure)
        if answer is None:
            return None
        status, headers, body, user = answer
        request.user = user  # as authentication would leave it (the log line names the user)
        own = {"content-length": str(len(body)), REQUEST_ID_HEADER.lower(): request_id}
        return status, [(name, own[name.lower()] if value is None else value) for name, value in headers], body

    def _session(self, learnt: dict, secure: bool) -> tuple | None:
        """(status, headers, body, user) of a read of one session, from its copy; None: Django answers."""
        request, kind = self.request, self.kind
        login_key = None if kind[-1] == "bearer" else _login_session_key(request)
        # One Redis call: the session, its participants' copies, and the login session's data. Copies
        # only: no database read here (the view does it when there is no current copy); the user and
        # the session are only checked and digested, never changed.
        with freshness.prefetch(session_id=self.session_id, also=(login_key,) if login_key else (),
                                copies_only=True) as fetched:
            if freshness.prefetch_failed():
                self.redis_failed = True
                return None  # Redis is not answering: the view answers, from the database
            if fetched.get(login_key) is not None:
                # What SessionStore.load() would have read from the same key (the cached_db engine).
                request.session._session_cache = caches[settings.SESSION_CACHE_ALIAS].client.decode(
                    fetched[login_key])
            user = _reader(request, kind)
            if user is None:
                return None
            session = selectors.session_copy_for_participant(session_id=self.session_id, user=user)
        if session is None:
            return None
        now = timezone.now()
        if kind[0] == "panel":  # as views.session_detail makes it
            etag = panel_etag(session, user, rules.allowed_actions(session, user, now))
        else:  # as the API's session_response makes it
            _, etag = participant_view(session, user, now)
        if etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
            status, body = 304, b""
            headers = learnt.get((304, secure))
        else:
            status, headers = 200, learnt.get((200, secure)) if kind[0] == "api" else None
            body = None if headers is None else rendered.get((etag, _header(headers, "content-type")))
        if headers is None or body is None:
            return None
        return status, [(name, etag if name.lower() == "etag" else value) for name, value in headers], body, user

    def _page_of_list(self, headers: list | None) -> tuple | None:
        """(status, headers, body, user) of a page of the caller's list of sessions, as the list view keeps it
        (freshness.lookup_list); None: Django answers."""
        if headers is None:
            return None
        variant = freshness.list_variant(_header(headers, "content-type"), self.request.build_absolute_uri())
        user, found = self._from_copies(lambda user: freshness.lookup_list(user.pk, variant))
        if found is None or found.value is None:
            return None
        return 200, headers, found.value, user

    def _stats(self, headers: list | None) -> tuple | None:
        """(status, headers, body, user) of the caller's statistics, from the caller's current copy; None:
        Django answers."""
        if headers is None:
            return None
        user, _ = self._from_copies()
        if user is None:
            return None
        return 200, headers, JSONRenderer().render(stats_of(user), _header(headers, "content-type")), user

    def _from_copies(self, read=None) -> tuple:
        """(the caller, ``read(caller)``) from Redis copies only, as for a session: (None, None) when the caller
        has no current copy or is refused. Notes whether Redis failed, for ``handover``."""
        with freshness.prefetch(copies_only=True):
            user = _reader(self.request, self.kind)
            found = None if user is None or read is None else read(user)
            self.redis_failed = freshness.prefetch_failed()
        return user, found

    def handover(self):
        """The block Django answers this request in: one whose lookups do not ask Redis if it failed here
        (a Redis that hangs then costs the request one timeout, not one per lookup)."""
        return freshness.without_redis() if self.redis_failed else contextlib.nullcontext()

    def learn(self, status: int, headers: list) -> None:
        """Keep the headers of Django's answer to this request, for the early answers of the same kind."""
        names = {name.lower() for name, _ in headers}
        if status not in (200, 304) or "set-cookie" in names or ("etag" not in names
                                                                  and self.kind[0] not in ("list", "stats")):
            return  # (a page of the list and the statistics have no ETag)
        if any("'nonce-" in value for name, value in headers if name.lower().startswith("content-security-policy")):
            return  # a nonce belongs to one answer
        _answered.setdefault((self.name, self.kind), {})[(status, self.request.is_secure())] = [
            (name, None if name.lower() in _PER_ANSWER else value) for name, value in headers
        ]


def _kind(environ: dict) -> tuple | None:
    """What may be answered early: ("api", Accept, "bearer" or "cookie"), ("panel",), ("list", Accept,
    "bearer"), ("stats", Accept, "bearer"); else None."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    if environ.get("CONTENT_LENGTH", "0") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ:
        return None  # a body: Django's body checks (request_body.py) answer it
    path = environ.get("PATH_INFO", "")
    if path == "/api/sessions/":  # a page of the list (its query picks the page)
        return _for_bearer("list", environ)
    if environ.get("QUERY_STRING"):
        return None
    if path == "/api/me/stats/":
        return _for_bearer("stats", environ)
    if path.startswith("/api/session"):
        accept = environ.get("HTTP_ACCEPT", "")
        if accept not in JSON_ACCEPTS:
            return None
        # As DRF tries them: a bearer token first; the session cookie only without an Authorization header.
        if environ.get("HTTP_AUTHORIZATION"):
            return None if environ.get("HTTP_COOKIE") else ("api", accept, "bearer")
        return ("api", accept, "cookie") if environ.get("HTTP_COOKIE") else None
    if path.startswith("/sessions/") and environ.get("HTTP_HX_REQUEST") == "true":
        return ("panel",) if environ.get("HTTP_COOKIE") else None
    return None


def _for_bearer(name: str, environ: dict) -> tuple | None:
    """(name, Accept, "bearer") for a bearer token without a cookie and an Accept that picks JSON; else None."""
    accept = environ.get("HTTP_ACCEPT", "")
    if environ.get("HTTP_AUTHORIZATION") and not environ.get("HTTP_COOKIE") and accept in JSON_ACCEPTS:
        return (name, accept, "bearer")
    return None


_bearer = None


def _reader(request, kind: tuple):
    """The authenticated user, checked as DRF's or Django's authentication would; None: let the view answer."""
    global _bearer
    if kind[-1] == "bearer":
        if _bearer is None:
            from .api.authentication import ProfileJWTAuthentication

            _bearer = ProfileJWTAuthentication()
        try:
            authenticated = _bearer.authenticate(request)
        except APIException:
            return None  # the view answers the refusal
        return authenticated[0] if authenticated else None
    user = auth.get_user(request)  # what AuthenticationMiddleware and DRF's SessionAuthentication use
    return user if user.is_authenticated and user.is_active else None


def _header(headers: list, name: str) -> str:
    return next((value for header, value in headers if header.lower() == name), "") or ""


def _login_session_key(request) -> str | None:
    """The Redis key of the login session's data, where Django's cached_db engine keeps it; else None."""
    if (settings.SESSION_ENGINE != "django.contrib.sessions.backends.cached_db"
            or not settings.CACHES[settings.SESSION_CACHE_ALIAS]["BACKEND"].startswith("django_redis.")):
        return None
    session_key = request.session.session_key  # the cookie's value, if it is a valid key
    return None if session_key is None else caches[settings.SESSION_CACHE_ALIAS].make_key(KEY_PREFIX + session_key)


def _route(path: str) -> tuple:
    route = _routes.get(path)
    if route is None:
        route = ()
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match is not None and match.view_name in ROUTES:
            keyword = ROUTES[match.view_name][0]
            try:
                route = (match.view_name, uuid.UUID(str(match.kwargs[keyword])) if keyword else None)
            except ValueError:
                pass  # a malformed id: the view answers it
        _routes.put(path, route)
    return route
