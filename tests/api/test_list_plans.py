"""Every query behind the history list and the stats walks an index of wingman_sessions, never the table.

Each request's SELECTs on wingman_sessions are captured and EXPLAINed on
PostgreSQL with sequential scans priced out (enable_seqscan off): the
planner then still scans the table only where no index can answer, which
is what this test refuses. (On a test database of a few rows the planner
would scan the table whatever indexes exist; at a million sessions it must
not.)
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..conftest import on_postgres, require_or_skip

LISTS = [
    "/api/sessions/?limit=20",
    "/api/sessions/?limit=2&offset=2",
    "/api/sessions/?limit=20&status=completed",
    "/api/sessions/?limit=20&completed=false",
    "/api/sessions/?limit=20&ordering=scheduled_time",
    "/api/sessions/?limit=20&date_from=2026-01-01&date_to=2026-12-31",
    "/api/me/stats/",
]


def plan_of(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("path", LISTS)
def test_the_list_queries_use_indexes(path, alice_api, make_session):
    require_or_skip(on_postgres(), "EXPLAIN plans are PostgreSQL's", "WINGMAN_REQUIRE_POSTGRES")
    for days in range(1, 6):
        make_session(starts_in=-timedelta(days=days))
    with CaptureQueriesContext(connection) as captured:
        response = alice_api.get(path)
    assert response.status_code == 200, response.content[:300]
    selects = [query for query in captured.captured_queries
               if query["sql"].lstrip().upper().startswith("SELECT") and "wingman_sessions" in query["sql"]]
    for query in selects:
        # Django's captured SQL has the parameters interpolated; EXPLAIN that text as it ran.
        plan = plan_of(query["sql"], None)
        assert "Seq Scan on wingman_sessions" not in plan, f"{path}\n{query['sql']}\n{plan}"
    if path.startswith("/api/sessions/"):
        assert selects, "the list read no sessions"
