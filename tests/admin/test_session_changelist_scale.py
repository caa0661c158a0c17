"""The sessions changelist at 10,000 rows: a fixed number of queries and no unbounded COUNT(*)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sessions_app.admin import EstimatedCountPaginator
from sessions_app.models import WingmanSession
from tests.conftest import web_client

from ..conftest import on_postgres
from .conftest import SESSIONS

ROWS = 10_000


@pytest.fixture
def many_sessions(session):
    """10,000 sessions copied from the fixture session, one a minute into the past."""
    template = {f.attname: getattr(session, f.attname) for f in WingmanSession._meta.concrete_fields
                if f.attname != "id"}
    start = timezone.now()
    WingmanSession.objects.bulk_create(
        [WingmanSession(**{**template, "scheduled_time": start - timedelta(minutes=i),
                           "status": "completed" if i % 2 else "cancelled",
                           "completed_at": start if i % 2 else None})
         for i in range(ROWS - 1)],
        batch_size=2000,
    )
    if on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE wingman_sessions")  # what autovacuum does on a real table
    return ROWS


def _count_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


# session + user, permissions (group and user), bounded count (+ estimate on PostgreSQL), the page of rows.
EXPECTED = {"postgresql": 6, "sqlite": 5}


def test_it_runs_a_fixed_number_of_queries(mod, many_sessions, django_assert_num_queries):
    client = web_client(mod)
    client.get(SESSIONS)  # warm the session and the content types
    # (one 10,000-row table for all cases: building it is the slow part)
    for params in ({}, {"status__exact": "completed", "o": "2"}, {"q": "alice", "p": "7"}):
        with django_assert_num_queries(EXPECTED[connection.vendor]) as captured:
            response = client.get(SESSIONS, params)
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == 50
        counts = _count_statements(captured.captured_queries)
        if on_postgres():
            assert len(counts) == 1 and "LIMIT 1001" in counts[0], counts  # bounded, then estimated
        assert response.context["cl"].full_result_count is None


def test_it_runs_the_same_queries_for_a_small_table(mod, session, django_assert_num_queries):
    client = web_client(mod)
    client.get(SESSIONS)
    with django_assert_num_queries(EXPECTED[connection.vendor] - (1 if on_postgres() else 0)):
        response = client.get(SESSIONS)
    assert response.context["cl"].result_count == 1


def test_it_estimates_big_counts_on_postgres_and_counts_exactly_elsewhere(many_sessions):
    everything = EstimatedCountPaginator(WingmanSession.objects.order_by("pk"), 50)
    completed = EstimatedCountPaginator(WingmanSession.objects.filter(status="completed").order_by("pk"), 50)
    if on_postgres():
        assert everything.count == ROWS  # pg_class.reltuples, exact right after ANALYZE
        assert 1001 <= completed.count <= ROWS  # the planner's estimate, at least the bounded count
    else:
        assert everything.count == ROWS
        assert completed.count == 4999  # every odd one of the 9,999 copies


def test_it_counts_small_results_exactly(many_sessions):
    few = WingmanSession.objects.filter(scheduled_time__gte=timezone.now() - timedelta(minutes=99, seconds=30))
    # 100 in the past, and the fixture's session three hours ahead
    assert EstimatedCountPaginator(few.order_by("pk"), 50).count == 101
