"""/api/notifications/ and /api/me/notification-settings/ (included before sessions_app's catch-all 404)."""

from django.urls import path

from .views import CalendarTokenViewSet, NotificationSettingsViewSet, NotificationViewSet

app_name = "notifications-api"

urlpatterns = [
    path("notifications/", NotificationViewSet.as_view({"get": "list"}), name="list"),
    path("notifications/read/", NotificationViewSet.as_view({"post": "read"}), name="read"),
    path("me/notification-settings/",
         NotificationSettingsViewSet.as_view({"get": "list", "patch": "update_many"}), name="settings"),
    path("me/calendar-token/", CalendarTokenViewSet.as_view({"post": "rotate"}), name="calendar-token"),
]
