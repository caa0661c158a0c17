"""Pages of notifications: the one-click unsubscribe link from e-mails."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
