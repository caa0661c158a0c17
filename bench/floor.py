"""The floor: the cheapest Django answer to "read this session", served only by the bench.

One view, no middleware, no authentication, one hand-written SQL query by
primary key, JsonResponse. Every product figure in the bench is a ratio to
this view measured in the same round under the same gunicorn settings.
It lives outside the product's URLs: only bench/floor_wsgi.py serves it.
"""

from django.db import connection
from django.http import JsonResponse
from django.urls import path

from sessions_app.models import WingmanSession

COLUMNS = ("id", "status", "version", "venue_name", "scheduled_time", "notes", "user1_id", "user2_id")
ID_FIELD = WingmanSession._meta.pk
QUERY = f"SELECT {', '.join(COLUMNS)} FROM wingman_sessions WHERE id = %s"


def session_row(request, session_id):
    key = ID_FIELD.get_db_prep_value(session_id, connection)  # a UUID on PostgreSQL, hex text on SQLite
    with connection.cursor() as cursor:
        cursor.execute(QUERY, [key])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"detail": "No such session."}, status=404)
    return JsonResponse(dict(zip(COLUMNS, row, strict=True)))


urlpatterns = [path("floor/session/<uuid:session_id>", session_row, name="floor-session")]
