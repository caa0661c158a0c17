"""A participant's GET of one session, answered before DRF when one Redis call shows what to send.

API clients poll their session: most of those reads are answered 304, and
the rest with JSON already rendered for the same ETag. Going through the
rest of the middleware and DRF (content negotiation, authentication,
permission, throttling, the view) cost three quarters of such an answer, so
SessionReadMiddleware answers them itself when all of this holds:

- ``GET /api/session/{id}`` or ``GET /api/sessions/{id}/``, no query string,
  no cookie, an Accept that picks JSON (none, ``*/*``, ``application/json``);
- a bearer token this process has validated before; simplejwt's checks of
  it and of the user (active, password not changed) run as in the view,
  through the same authentication class;
- the session's Redis copy is current and the caller is a participant
  (selectors.session_copy_for_participant: same rule, no query);
- the ETag (conditional.participant_view, as in the view) matches
  If-None-Match (304), or the JSON for that ETag is in ``rendered``, kept
  by the view when it rendered it (200).

Its headers are those the view gave the last full answer for the same route,
Accept and status in this process (everything but the ETag, which is
computed now): until the view has answered once, nothing is answered here.
Anything else, any doubt, goes on to the view, which answers as always
(401, 403, 404, the database read when the copy is not current).
"""

import uuid

from django.http import HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.exceptions import APIException

from .. import freshness, selectors
from ..conditional import etag_matches, participant_view
from .authentication import ProfileJWTAuthentication, known_bearer_user_id
from .lru import Lru

# The session read's routes, and the keyword of the session id in each.
ROUTES = {"api:session-detail": "pk", "api:legacy-session": "session_id"}
JSON_ACCEPTS = ("", "*/*", "application/json")

RENDERED_SESSIONS_KEPT = 500
rendered = Lru(RENDERED_SESSIONS_KEPT)  # (ETag, media type) -> the JSON bytes of that full session

_routes = Lru(2_000)  # path -> (route name, session id), or () for a path that is not a session read
_answered: dict = {}  # (route name, Accept, status) -> the view's headers for it, without the ETag
_NOT_COPIED = frozenset({"etag", "content-length"})


class SessionReadMiddleware:
    """After CommonMiddleware (host check, Content-Length) and XFrameOptionsMiddleware; before the rest."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.authentication = ProfileJWTAuthentication()

    def __call__(self, request):
        meta = request.META
        if (request.method != "GET" or meta.get("QUERY_STRING") or meta.get("HTTP_COOKIE")
                or "HTTP_AUTHORIZATION" not in meta or not request.path_info.startswith("/api/session")):
            return self.get_response(request)
        route = _route(request.path_info)
        accept = meta.get("HTTP_ACCEPT", "")
        if not route or accept not in JSON_ACCEPTS:
            return self.get_response(request)
        name, session_id = route
        answer = self.answer(request, name, session_id, accept)
        if answer is not None:
            return answer
        response = self.get_response(request)
        if response.status_code in (200, 304) and response.has_header("ETag"):
            _answered[(name, accept, response.status_code)] = [
                (header, value) for header, value in response.items() if header.lower() not in _NOT_COPIED
            ]
        return response

    def answer(self, request, name: str, session_id: uuid.UUID, accept: str):
        user_id = known_bearer_user_id(request)
        if user_id is None or not ((name, accept, 304) in _answered or (name, accept, 200) in _answered):
            return None
        with freshness.prefetch(session_id=session_id, user_id=user_id):
            try:
                authenticated = self.authentication.authenticate(request)
            except APIException:
                return None  # the view answers the refusal
            if authenticated is None:
                return None
            user = authenticated[0]
            session = selectors.session_copy_for_participant(session_id=session_id, user=user)
        if session is None:
            return None
        _, etag = participant_view(session, user, timezone.now())
        if etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
            response = HttpResponseNotModified()
            headers = _answered.get((name, accept, 304))
            if headers is None:
                return None
        else:
            headers = _answered.get((name, accept, 200))
            content_type = dict(headers or ()).get("Content-Type", "")
            body = rendered.get((etag, content_type)) if headers else None
            if body is None:
                return None
            response = HttpResponse(body)
        for header, value in headers:
            response[header] = value
        response["ETag"] = etag
        request.user = user  # for the request's log line
        return response


def _route(path: str) -> tuple:
    route = _routes.get(path)
    if route is None:
        route = ()
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match is not None and match.view_name in ROUTES:
            try:
                route = (match.view_name, uuid.UUID(str(match.kwargs[ROUTES[match.view_name]])))
            except ValueError:
                pass  # a malformed id: the view answers 422
        _routes.put(path, route)
    return route
