"""Thin viewsets over the domain layer.

Each mutation parses its body with an input serializer (types and sizes only)
and calls one service of sessions_app/services/; each read calls a selector.
Domain errors become problem+json in problems.exception_handler. No rule of
the lifecycle is written here.
"""

import uuid

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from .. import freshness, selectors, services
from ..conditional import PRIVATE_NO_CACHE, etag_matches, expected_version, participant_view
from ..errors import NotFound, NotParticipant
from ..forms import HistoryFilterForm
from ..ical import sessions_calendar
from ..logins import http_request, password_check
from ..models import SessionStatus
from ..selectors import SESSION_ORDERINGS
from ..session_reads import rendered as rendered_sessions
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import erased_account_replay, idempotent
from .pagination import Pagination
from .problems import MalformedId, PayloadTooLarge
from .renderers import ICalendarRenderer
from .schema import ETAG, IDEMPOTENCY_KEY, IF_MATCH, IF_NONE_MATCH, problems
from .serializers import (
    BlockSerializer,
    CancelSerializer,
    ChallengeSerializer,
    ConfirmCompletionResultSerializer,
    ConfirmCompletionSerializer,
    ConfirmSerializer,
    DisputeSerializer,
    EraseSerializer,
    EventSerializer,
    MatchSerializer,
    NoShowSerializer,
    NotesSerializer,
    ProfileSerializer,
    RefreshOnceSerializer,
    RescheduleSerializer,
    ScheduleSerializer,
    SessionSerializer,
    SessionSummarySerializer,
    StatsSerializer,
    stats_of,
)


class ApiViewMixin:
    """What every API view shares: a cap on the body size before anything reads it, and no OPTIONS.

    (DRF would answer OPTIONS with a description of each view; the OpenAPI
    schema is the one description, so OPTIONS is 405 like any other verb a
    route does not take, and the Allow header says so.)
    """

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "trace"]

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise PayloadTooLarge(f"The request body may be at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
        super().initial(request, *args, **kwargs)


def parse_id(raw) -> uuid.UUID:
    """A UUID from the path; anything else is malformed input (422)."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise MalformedId() from None


SESSION_ID_PROBLEMS = (403, 404, 422)
PAGE_PARAMETERS_SESSIONS = [
    OpenApiParameter("status", str, enum=SessionStatus.values, description="Only sessions in this status."),
    OpenApiParameter("match", OpenApiTypes.UUID, description="Only sessions of this match."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="From this day (in your time zone)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Until this day (in your time zone), inclusive."),
    OpenApiParameter("completed", bool, description="true: only completed; false: all others."),
    OpenApiParameter("ordering", str, enum=list(SESSION_ORDERINGS), description="Sort order."),
]


def lifecycle_schema(summary: str, request=None, extra: tuple = ()):
    """The schema of a lifecycle action: answers the full session, or a problem."""
    return extend_schema(
        summary=summary,
        request=request,
        parameters=[IDEMPOTENCY_KEY, ETAG],
        responses={200: SessionSerializer, **problems(400, 409, *SESSION_ID_PROBLEMS, *extra)},
    )


class SessionViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """The caller's sessions and every action on one of them."""

    pagination_class = Pagination
    throttle_scopes = {"confirm": "confirm", "legacy_confirm": "confirm", "confirm_completion": "confirm",
                       "notes": "notes"}
    serializer_class = SessionSerializer

    def dispatch(self, request, *args, **kwargs):
        """GET of one session: the session and its participants (the caller, if one of them) in one Redis
        round trip (freshness.prefetch); authentication and the read then check them as always."""
        if self.action_map.get(request.method.lower()) == "retrieve":
            try:
                session_id = uuid.UUID(str(kwargs.get(self.lookup_url_kwarg or "pk")))
            except ValueError:
                session_id = None
            if session_id is not None:
                with freshness.prefetch(session_id=session_id):
                    return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    # -- helpers ---------------------------------------------------------------

    def session_id(self) -> uuid.UUID:
        return parse_id(self.kwargs.get(self.lookup_url_kwarg or "pk"))

    def context(self) -> dict:
        return {"request": self.request, "user": self.request.user, "now": timezone.now()}

    def get_renderers(self):
        if getattr(self, "action", None) == "calendar":
            return [ICalendarRenderer(), JSONRenderer()]
        return super().get_renderers()

    def session_response(self, session, *, status_code: int = 200) -> Response:
        """The full session with its ETag; answers 304 to a matching If-None-Match on reads.

        The ETag is a digest of everything the body is built from (conditional.py), so the JSON rendered
        for one ETag is kept (session_reads.RENDERED_SESSIONS_KEPT per process) and sent again as bytes,
        here and by the early session reads (session_reads.py).
        """
        context = self.context()
        allowed, etag = participant_view(session, self.request.user, context["now"])
        if self.request.method == "GET" and etag_matches(self.request.headers.get("If-None-Match"), etag):
            response = HttpResponseNotModified()  # decided without rendering the body
        elif type(getattr(self.request, "accepted_renderer", None)) is JSONRenderer:
            media_type = self.request.accepted_media_type
            body = rendered_sessions.get((etag, media_type))
            if body is None:
                data = SessionSerializer(session, context={**context, "allowed": allowed}).data
                body = self.request.accepted_renderer.render(data, media_type, self.get_renderer_context())
                rendered_sessions.put((etag, media_type), body)
            response = HttpResponse(body, status=status_code, content_type=media_type)
        else:  # the browsable API
            response = Response(SessionSerializer(session, context={**context, "allowed": allowed}).data,
                                status=status_code)
        response["ETag"] = etag
        response["Cache-Control"] = PRIVATE_NO_CACHE
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response

    def get_queryset(self):
        """What the list actions page through, always scoped to the caller by a selector.

        The browsable API asks for it too (to offer filters), so every list
        renders in a browser as well as in JSON.
        """
        if self.action == "events":
            return selectors.session_events_for_participant(session_id=self.session_id(), user=self.request.user)
        filters = HistoryFilterForm(self.request.query_params, user=self.request.user, blank_allowed=False).filters()
        tz = selectors.profile_for_user(user=self.request.user).timezone
        return selectors.session_list_for_user(user=self.request.user, filters=filters, tz=tz)

    def act(self, service, **arguments) -> Response:
        session = service(session_id=self.session_id(), user=self.request.user, **arguments)
        return self.session_response(session)

    def body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # -- collection ------------------------------------------------------------

    @extend_schema(
        summary="The caller's sessions (summaries, no notes)",
        parameters=PAGE_PARAMETERS_SESSIONS,
        responses={200: SessionSummarySerializer(many=True), **problems(422)},
    )
    def list(self, request):
        """A page of summaries; its JSON is kept in Redis until any of the caller's sessions, or anyone on it,
        changes (freshness.lookup_list), and sent again without a query."""
        json = type(getattr(request, "accepted_renderer", None)) is JSONRenderer  # else the browsable API
        if json:
            media_type = request.accepted_media_type
            found = freshness.lookup_list(request.user.pk, freshness.list_variant(media_type,
                                                                                  request.build_absolute_uri()))
            if found.value is not None:
                return HttpResponse(found.value, content_type=media_type)
        page = self.paginate_queryset(self.get_queryset())
        response = self.get_paginated_response(SessionSummarySerializer(page, many=True, context=self.context()).data)
        if not json:
            return response
        body = request.accepted_renderer.render(response.data, media_type, self.get_renderer_context())
        found.store(body, people={pk for session in page for pk in (session.user1_id, session.user2_id)})
        return HttpResponse(body, content_type=media_type)

    @extend_schema(
        summary="Schedule a session for a match the caller belongs to",
        request=ScheduleSerializer,
        parameters=[IDEMPOTENCY_KEY, ETAG],
        responses={201: SessionSerializer, **problems(400, 403, 409, 422)},
    )
    @idempotent
    def create(self, request):
        session = services.session_schedule(user=request.user, **self.body(ScheduleSerializer))
        response = self.session_response(session, status_code=status.HTTP_201_CREATED)
        response["Location"] = reverse("api:session-detail", kwargs={"pk": session.pk})
        return response

    @extend_schema(
        summary="The caller's session in progress, else the next scheduled one",
        parameters=[IF_NONE_MATCH, ETAG],
        responses={200: SessionSerializer, 304: OpenApiResponse(description="Not modified"), **problems(404)},
    )
    @action(detail=False, methods=["get"])
    def current(self, request):
        session = selectors.session_current_for_user(user=request.user)
        if session is None:
            raise NotFound("You have no session in progress or coming up.", code="no_current_session")
        return self.session_response(session)

    # -- one session -----------------------------------------------------------

    @extend_schema(
        summary="The full session",
        parameters=[IF_NONE_MATCH, ETAG],
        responses={200: SessionSerializer, 304: OpenApiResponse(description="Not modified"),
                   **problems(*SESSION_ID_PROBLEMS)},
    )
    def retrieve(self, request, *args, **kwargs):
        session = selectors.session_get_for_participant(session_id=self.session_id(), user=request.user)
        return self.session_response(session)

    @lifecycle_schema("Check in (marked present); the first check-in starts the session")
    @action(detail=True, methods=["post"], url_path="check-in")
    @idempotent
    def check_in(self, request, *args, **kwargs):
        return self.act(services.session_check_in)

    @lifecycle_schema("Start the session")
    @action(detail=True, methods=["post"])
    @idempotent
    def start(self, request, *args, **kwargs):
        return self.act(services.session_start)

    @lifecycle_schema("Pause the running session")
    @action(detail=True, methods=["post"])
    @idempotent
    def pause(self, request, *args, **kwargs):
        return self.act(services.session_pause)

    @lifecycle_schema("Resume the paused session")
    @action(detail=True, methods=["post"])
    @idempotent
    def resume(self, request, *args, **kwargs):
        return self.act(services.session_resume)

    @lifecycle_schema("Confirm that your buddy completed the buddy's challenge", ConfirmSerializer, (429,))
    @action(detail=True, methods=["post"])
    @idempotent
    def confirm(self, request, *args, **kwargs):
        result = self.confirm_result(self.session_id(), self.body(ConfirmSerializer).get("buddy_id"))
        return self.session_response(result.session)

    @lifecycle_schema("Cancel before the start, with a reason", CancelSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, *args, **kwargs):
        return self.act(services.session_cancel, reason=self.body(CancelSerializer)["reason"])

    @lifecycle_schema("Report your buddy absent", NoShowSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    @idempotent
    def no_show(self, request, *args, **kwargs):
        return self.act(services.session_report_no_show,
                        absent_user_id=self.body(NoShowSerializer).get("absent_user_id"))

    @lifecycle_schema("Propose a new time (and optionally venue); replaces any pending proposal",
                      RescheduleSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def reschedule(self, request, *args, **kwargs):
        return self.act(services.session_reschedule_propose, **self.body(RescheduleSerializer))

    @lifecycle_schema("Accept your buddy's proposed time: the session moves")
    @action(detail=True, methods=["post"], url_path="reschedule/accept", url_name="reschedule-accept")
    @idempotent
    def reschedule_accept(self, request, *args, **kwargs):
        return self.act(services.session_reschedule_accept)

    @lifecycle_schema("Decline your buddy's proposed time, or withdraw your own")
    @action(detail=True, methods=["post"], url_path="reschedule/decline", url_name="reschedule-decline")
    @idempotent
    def reschedule_decline(self, request, *args, **kwargs):
        return self.act(services.session_reschedule_decline)

    @lifecycle_schema("Dispute the final outcome (each participant once, within 72 hours), with a reason",
                      DisputeSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def dispute(self, request, *args, **kwargs):
        return self.act(services.session_dispute, reason=self.body(DisputeSerializer)["reason"])

    @extend_schema(
        summary="Replace the shared notes (plain text, at most 5,000 characters)",
        request=NotesSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, ETAG],
        responses={200: SessionSerializer, **problems(400, 412, 429, *SESSION_ID_PROBLEMS)},
    )
    @action(detail=True, methods=["patch"])
    @idempotent
    def notes(self, request, *args, **kwargs):
        notes = self.body(NotesSerializer)["notes"]
        return self.act(services.notes_update, notes=notes,
                        expected_version=expected_version(request.headers.get("If-Match")))

    @extend_schema(
        summary="The audit timeline of the session",
        responses={200: EventSerializer(many=True), **problems(*SESSION_ID_PROBLEMS)},
    )
    @action(detail=True, methods=["get"])
    def events(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EventSerializer(page, many=True, context={"user": request.user}).data)

    @extend_schema(
        summary="The session as an iCalendar event (stable UID, SEQUENCE = version)",
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="RFC 5545 calendar"),
                   **problems(*SESSION_ID_PROBLEMS)},
    )
    def calendar(self, request, *args, **kwargs):
        session = selectors.session_get_for_participant(session_id=self.session_id(), user=request.user)
        response = HttpResponse(sessions_calendar([session], now=timezone.now()),
                                content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="wingman-session-{session.pk}.ics"'
        response["Cache-Control"] = PRIVATE_NO_CACHE
        return response

    # -- the original contracts ------------------------------------------------

    def confirm_result(self, session_id, buddy_id) -> services.ConfirmResult:
        return services.session_confirm(session_id=session_id, user=self.request.user, buddy_id=buddy_id)

    def confirm_answer(self, result: services.ConfirmResult) -> Response:
        if result.both_confirmed:
            message = "Confirmed. Both of you have confirmed: the session is completed."
        else:
            message = "Confirmed. The session completes once your buddy confirms you too."
        return Response(ConfirmCompletionResultSerializer({
            "success": True,
            "message": message,
            "session_status": result.session.status,
            "both_confirmed": result.both_confirmed,
            "reputation_updated": result.reputation_updated,
            "user_reputation_delta": result.user_reputation_delta,
        }).data)

    @extend_schema(
        summary="Original contract: confirm the buddy's completion",
        request=ConfirmSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: ConfirmCompletionResultSerializer, **problems(400, 409, 429, *SESSION_ID_PROBLEMS)},
    )
    @idempotent
    def legacy_confirm(self, request, *args, **kwargs):
        return self.confirm_answer(self.confirm_result(self.session_id(), self.body(ConfirmSerializer).get("buddy_id")))

    @extend_schema(
        summary="Original contract: confirm the buddy's completion, session named in the body",
        request=ConfirmCompletionSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: ConfirmCompletionResultSerializer, **problems(400, 403, 404, 409, 422, 429)},
    )
    @idempotent
    def confirm_completion(self, request, *args, **kwargs):
        body = self.body(ConfirmCompletionSerializer)
        return self.confirm_answer(self.confirm_result(body["session_id"], body.get("buddy_id")))


class LegacySessionViewSet(SessionViewSet):
    """The original /api/session/... paths: the same code, the id named ``session_id``."""

    lookup_url_kwarg = "session_id"


class MatchViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """The caller's matches (a match pairs two buddies)."""

    pagination_class = Pagination
    serializer_class = MatchSerializer

    def get_queryset(self):
        return selectors.match_list_for_user(user=self.request.user)

    @extend_schema(summary="The caller's matches", responses={200: MatchSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MatchSerializer(page, many=True).data)

    @extend_schema(summary="One of the caller's matches", responses={200: MatchSerializer, **problems(403, 404, 422)})
    def retrieve(self, request, pk=None):
        match = selectors.match_get_for_user(match_id=parse_id(pk), user=request.user)
        return Response(MatchSerializer(match).data)

    @extend_schema(
        summary="Block the buddy of this match: the match ends, its open sessions are cancelled (\"blocked\", "
                "no penalty) and the pair can never be scheduled again; optionally report them",
        request=BlockSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: MatchSerializer, **problems(400, 403, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def block(self, request, pk=None):
        body = BlockSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        match = services.match_block(match_id=parse_id(pk), user=request.user, **body.validated_data)
        return Response(MatchSerializer(match).data)


class ChallengeViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Approach challenges a session can carry."""

    pagination_class = Pagination
    serializer_class = ChallengeSerializer

    def get_queryset(self):
        return selectors.challenge_list_active()

    @extend_schema(summary="The active approach challenges", responses={200: ChallengeSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ChallengeSerializer(page, many=True).data)


# The password is checked, never kept: not even hashed into the Idempotency-Key record.
ERASE_UNRECORDED = ("password",)


class MeViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """The caller: profile and statistics (a singleton, so routed by hand, not by the router)."""

    serializer_class = ProfileSerializer

    @extend_schema(summary="The caller's profile", responses={200: ProfileSerializer})
    def profile(self, request):
        return Response(ProfileSerializer(selectors.profile_for_user(user=request.user)).data)

    @extend_schema(summary="The caller's statistics", responses={200: StatsSerializer})
    def stats(self, request):
        return Response(stats_of(request.user))

    @extend_schema(
        summary="Close the caller's account (with the password): anonymised, signed out everywhere, open "
                "sessions cancelled without penalty; counts toward the login limits. A repeat with the same "
                "Idempotency-Key and the same credential gets the same answer, although the account is closed.",
        request=EraseSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={204: OpenApiResponse(description="Account closed"), **problems(403, 422, 429)},
    )
    @idempotent(leave_out=ERASE_UNRECORDED)
    def erase(self, request):
        body = EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if password_check(request=request, username=request.user.get_username(),
                          password=body.validated_data["password"]) is None:
            raise NotParticipant("The password is not right.", code="wrong_password")
        services.user_erase(user=request.user, keep_idempotency_key=request.headers.get(IDEMPOTENCY_HEADER))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def handle_exception(self, exc):
        """A repeat of closing the account can no longer sign in: answer it from the erasure's record."""
        if getattr(self, "action", None) == "erase" and isinstance(exc, (NotAuthenticated, AuthenticationFailed)):
            replayed = erased_account_replay(self.request, ERASE_UNRECORDED)
            if replayed is not None:
                return replayed
        return super().handle_exception(exc)

    @extend_schema(summary="Everything stored about the caller, as a JSON download",
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The caller's data")})
    def export(self, request):
        response = Response(selectors.user_export(user=request.user))
        response["Content-Disposition"] = 'attachment; filename="wingman-my-data.json"'
        response["Cache-Control"] = PRIVATE_NO_CACHE
        return response


class ObtainTokenView(ApiViewMixin, TokenObtainPairView):
    """POST {username, password} -> {access, refresh}; counts toward the login limits (sessions_app.logins)."""

    throttle_scope = "token"

    def get_serializer_context(self):
        # simplejwt passes this request to authenticate(): the Django one, so axes' middleware sees a lockout.
        return {**super().get_serializer_context(), "request": http_request(self.request)}


class RefreshTokenView(ApiViewMixin, TokenRefreshView):
    """POST {refresh} -> {access, refresh}: the used refresh token is blacklisted (works once)."""

    throttle_scope = "token"
    serializer_class = RefreshOnceSerializer
