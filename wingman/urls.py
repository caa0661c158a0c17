"""URL map. Each area has its own urls module:

- sessions_app.api.urls   the JSON API under /api/
- sessions_app.urls       the participant pages
- sessions_app.health     /healthz and /readyz
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("sessions_app.api.urls")),
    path("", include("sessions_app.health")),
    path("", include("sessions_app.urls")),
]
