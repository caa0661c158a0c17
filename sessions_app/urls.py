"""The participant pages. Everything except logging in needs a logged-in user."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.dashboard, name="dashboard"),
    path("sessions/", views.history, name="history"),
    path("sessions/new/", views.schedule, name="schedule"),
    path("sessions/<uuid:session_id>/", views.session_detail, name="session_detail"),
    path("sessions/<uuid:session_id>/notes/", views.session_notes, name="session_notes"),
    path("sessions/<uuid:session_id>/<slug:action>/", views.session_action, name="session_action"),
    path("progress/", views.progress, name="progress"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/my-data.json", views.export_download, name="export_download"),
    path("settings/close-account/", views.account_erase, name="account_erase"),
]
