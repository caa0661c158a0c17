"""URL map. Each area has its own urls module:

- sessions_app.api.urls   the JSON API under /api/
- sessions_app.urls       the participant pages
- sessions_app.health     /healthz and /readyz
"""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico where a page names no icon (the admin, the API's pages); base.html names it.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/favicon.ico"))),
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
