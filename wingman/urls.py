"""URL map. Each area has its own urls module:

- sessions_app.api.urls   the JSON API under /api/
- sessions_app.urls       the participant pages
- sessions_app.health     /healthz and /readyz
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("notifications.api.urls")),
    path("api/", include("sessions_app.api.urls")),
    path("", include("notifications.urls")),
    path("", include("sessions_app.health")),
    path("", include("sessions_app.urls")),
]

# Friendly pages, and problem+json under /api/.
handler400 = "sessions_app.errorpages.bad_request"
handler403 = "sessions_app.errorpages.permission_denied"
handler404 = "sessions_app.errorpages.page_not_found"
handler500 = "sessions_app.errorpages.server_error"
