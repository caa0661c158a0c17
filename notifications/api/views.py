"""The caller's in-app notifications and their notification settings: thin views over services and selectors."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from sessions_app.api.pagination import Pagination
from sessions_app.api.schema import problems
from sessions_app.api.views import ApiViewMixin

from .. import selectors, services
from ..emails import absolute
from .serializers import (
    CalendarTokenSerializer,
    MarkReadSerializer,
    NotificationSerializer,
    PreferenceSerializer,
    UnreadSerializer,
)


class InboxPagination(Pagination):
    """The usual page envelope plus the caller's unread count."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread"] = selectors.unread_count(user=self.request.user)
        return response

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["unread"] = {"type": "integer", "minimum": 0}
        envelope["required"] = [*envelope.get("required", []), "unread"]
        return envelope


class NotificationViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pagination_class = InboxPagination
    serializer_class = NotificationSerializer

    @extend_schema(summary="The caller's notifications, newest first, with the unread count",
                   responses={200: NotificationSerializer(many=True), **problems(422)})
    def list(self, request):
        page = self.paginate_queryset(selectors.notifications_for_user(user=request.user))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    @extend_schema(summary="Mark notifications read: {ids: [...]} or {all: true}",
                   request=MarkReadSerializer, responses={200: UnreadSerializer, **problems(422)})
    def read(self, request):
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unread = services.notifications_mark_read(user=request.user, ids=serializer.validated_data.get("ids"),
                                                  everything=serializer.validated_data["all"])
        return Response({"unread": unread})


class NotificationSettingsViewSet(ApiViewMixin, viewsets.GenericViewSet):
    serializer_class = PreferenceSerializer
    pagination_class = None

    @extend_schema(summary="The caller's notification settings, one entry per kind",
                   responses={200: PreferenceSerializer(many=True)})
    def list(self, request):
        return Response(PreferenceSerializer(selectors.preferences_for(user=request.user), many=True).data)

    @extend_schema(summary="Change the channels of some kinds: [{kind, email?, in_app?}, ...]",
                   request=PreferenceSerializer(many=True),
                   responses={200: PreferenceSerializer(many=True), **problems(422)})
    def update_many(self, request):
        serializer = PreferenceSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        for item in serializer.validated_data:
            services.preference_set(user=request.user, kind=item["kind"], email=item.get("email"),
                                    in_app=item.get("in_app"))
        return Response(PreferenceSerializer(selectors.preferences_for(user=request.user), many=True).data)


class CalendarTokenViewSet(ApiViewMixin, viewsets.GenericViewSet):
    serializer_class = CalendarTokenSerializer

    @extend_schema(summary="A new secret calendar feed URL for the caller (the old one answers 404 from now on)",
                   request=None, responses={201: CalendarTokenSerializer})
    def rotate(self, request):
        token = services.calendar_token_rotate(user=request.user)
        url = absolute(reverse("notifications:calendar-feed", args=[token]))
        return Response({"url": url, "token": token}, status=status.HTTP_201_CREATED)
