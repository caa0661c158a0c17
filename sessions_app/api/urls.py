"""The JSON API under /api/: DRF routers for the canonical resources, the five
original paths served by the same viewset code, JWT, the OpenAPI schema and
its docs, and a problem+json 404 for every other /api/ URL."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .problems import api_not_found
from .views import (
    ChallengeViewSet,
    LegacySessionViewSet,
    MatchViewSet,
    MeViewSet,
    ObtainTokenView,
    RefreshTokenView,
    SessionViewSet,
)

app_name = "api"


class Router(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False

    def _get_dynamic_route(self, route, action):
        """An @action's route, without the schema class drf-spectacular keeps in the action's kwargs.

        DRF passes an action's kwargs to the view as initkwargs, and a view's
        ``schema = <class>`` goes through DRF's schema descriptor, which then
        sets ``view`` on that class: one class shared by every view of the
        action (the legacy /api/session/... paths too) would point at whichever
        view was built last, so the schema of those paths changed after the
        first request. The schema generator reads the class from the action
        itself, so nothing is lost.
        """
        dynamic = super()._get_dynamic_route(route, action)
        initkwargs = {name: value for name, value in dynamic.initkwargs.items() if name != "schema"}
        return dynamic._replace(initkwargs=initkwargs)


router = Router()
router.register("sessions", SessionViewSet, basename="session")
router.register("matches", MatchViewSet, basename="match")
router.register("challenges", ChallengeViewSet, basename="challenge")

original_contracts = [
    path("session/create", LegacySessionViewSet.as_view({"post": "create"}), name="legacy-session-create"),
    path("session/confirm-completion", LegacySessionViewSet.as_view({"post": "confirm_completion"}),
         name="legacy-session-confirm-completion"),
    path("session/<str:session_id>", LegacySessionViewSet.as_view({"get": "retrieve"}), name="legacy-session"),
    path("session/<str:session_id>/confirm", LegacySessionViewSet.as_view({"post": "legacy_confirm"}),
         name="legacy-session-confirm"),
    path("session/<str:session_id>/notes", LegacySessionViewSet.as_view({"patch": "notes"}),
         name="legacy-session-notes"),
]

urlpatterns = [
    *router.urls,
    path("me/", MeViewSet.as_view({"get": "profile", "delete": "erase"}), name="me"),
    path("me/stats/", MeViewSet.as_view({"get": "stats"}), name="me-stats"),
    path("me/export/", MeViewSet.as_view({"get": "export"}), name="me-export"),
    path("sessions/<str:pk>/calendar.ics", SessionViewSet.as_view({"get": "calendar"}), name="session-calendar"),
    *original_contracts,
    path("auth/token/", ObtainTokenView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", RefreshTokenView.as_view(), name="token-refresh"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from a URL of its own (?script), not inline (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
         name="docs"),
    re_path(r"^.*$", api_not_found, name="not-found"),
]
