"""Statement budgets of the two hot writes (issue 10: at most 6 each, BEGIN and COMMIT not counted).

With real commits, so the counted statements are what production runs:
the caller's user (cold: no Redis copy yet), the session locked with both
users, the audit event, the session's UPDATE, then both profiles read once
for the answer (still under the lock); nothing lazily loaded after.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def statements(call) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, [q["sql"] for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]


def test_patch_notes_runs_at_most_5_statements(alice_api, session):
    response, sql = statements(lambda: alice_api.patch(f"/api/sessions/{session.pk}/notes/", {"notes": "Meet at 7"},
                                                       HTTP_IF_MATCH='"1"'))
    assert response.status_code == 200 and response.json()["notes"] == "Meet at 7"
    assert len(sql) <= 5, sql


def test_a_confirm_runs_at_most_5_statements(alice_api, make_session):
    due = make_session(starts_in=-timedelta(minutes=20))
    response, sql = statements(lambda: alice_api.post(f"/api/sessions/{due.pk}/confirm/"))
    assert response.status_code == 200 and response.json()["user2_completed_confirmed_by_user1"] is True
    assert len(sql) <= 5, sql
