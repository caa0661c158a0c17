"""Benchmark the hot paths on a throwaway database filled with many sessions.

    python manage.py benchmark [--sessions N] [--repeat R]

It creates a separate test database (never touches the configured one), fills
it (PostgreSQL: one INSERT ... SELECT generate_series; SQLite: bulk inserts),
then times in-process requests through the full middleware stack with
Django's test client. Every figure is printed as a ratio to a baseline
measured in the same run (GET /healthz, the cheapest request the app serves),
because this machine is shared and absolute times drift.
"""

import logging
import statistics
import time
import tracemalloc
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from sessions_app.models import ApproachChallenge, MatchStatus, UserProfile, WingmanMatch, WingmanSession

STATUSES = ["completed", "cancelled", "no_show", "scheduled"]


class Command(BaseCommand):
    help = "Time the hot paths against a throwaway database with many sessions; prints ratios to a baseline."

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, default=None,
                            help="Sessions to create (default 1,000,000 on PostgreSQL, 100,000 on SQLite).")
        parser.add_argument("--repeat", type=int, default=200, help="Requests per measurement.")
        parser.add_argument("--keep", action="store_true",
                            help="Keep the benchmark database afterwards (and reuse a filled one) to investigate.")

    def handle(self, *args, sessions=None, repeat=200, keep=False, **options):
        on_postgres = connection.vendor == "postgresql"
        total = sessions or (1_000_000 if on_postgres else 100_000)
        setup_test_environment()
        logging.disable(logging.WARNING)  # one log line per request would swamp the figures
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
        try:
            self._run(total, repeat, on_postgres)
        finally:
            if not keep:
                connection.creation.destroy_test_db(old_name, verbosity=0)

    # -- data -------------------------------------------------------------------

    def _fill(self, total: int, on_postgres: bool):
        User = get_user_model()
        if User.objects.filter(username="bench0").exists():
            self.stdout.write(f"reusing the kept benchmark database ({WingmanSession.objects.count():,} sessions)")
            return User.objects.get(username="bench0"), User.objects.get(username="bench1")
        pairs = max(total // 100, 10)
        started = time.perf_counter()
        User.objects.bulk_create([User(username=f"bench{i}", password="!") for i in range(2 * pairs)],
                                 batch_size=5000)
        users = list(User.objects.order_by("pk").values_list("pk", flat=True))
        UserProfile.objects.bulk_create([UserProfile(user_id=pk, display_name=f"Bench {pk}") for pk in users],
                                        batch_size=5000)
        WingmanMatch.objects.bulk_create(
            [WingmanMatch(user1_id=users[2 * i], user2_id=users[2 * i + 1], status=MatchStatus.ACCEPTED)
             for i in range(pairs)], batch_size=5000)
        c1 = ApproachChallenge.objects.create(title="Ask a question", difficulty="beginner", points=10)
        c2 = ApproachChallenge.objects.create(title="Start a chat", difficulty="intermediate", points=25)
        if on_postgres:
            self._fill_postgres(total, c1, c2)
        else:
            self._fill_python(total, c1, c2)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"filled {total:,} sessions, {pairs:,} matches, {2 * pairs:,} users "
                          f"in {time.perf_counter() - started:.1f} s")
        return User.objects.get(username="bench0"), User.objects.get(username="bench1")

    def _fill_postgres(self, total: int, c1, c2) -> None:
        sql = """
        INSERT INTO wingman_sessions (
            id, match_id, user1_id, user2_id, user1_challenge_id, user2_challenge_id, venue_name,
            scheduled_time, status, completed_at, user1_completed_confirmed_by_user2,
            user2_completed_confirmed_by_user1, notes, created_at, updated_at, version,
            user1_challenge_title, user1_challenge_description, user1_challenge_difficulty, user1_challenge_points,
            user2_challenge_title, user2_challenge_description, user2_challenge_difficulty, user2_challenge_points,
            active_seconds, cancellation_reason, cancellation_penalty)
        SELECT gen_random_uuid(), m.id, m.user1_id, m.user2_id, %(c1)s, %(c2)s, 'Venue ' || g,
            now() - make_interval(mins => g), (ARRAY['completed','cancelled','no_show','scheduled'])[1 + g %% 4],
            CASE WHEN g %% 4 = 0 THEN now() - make_interval(mins => g) END, g %% 4 = 0, g %% 4 = 0, '', now(), now(),
            1, 'Ask a question', '', 'beginner', 10, 'Start a chat', '', 'intermediate', 25,
            CASE WHEN g %% 4 = 0 THEN 1800 ELSE 0 END, '', 0
        FROM generate_series(1, %(total)s) AS g
        JOIN (SELECT id, user1_id, user2_id, (row_number() OVER (ORDER BY user1_id)) - 1 AS rn
              FROM wingman_matches) AS m
          ON m.rn = CASE WHEN g <= %(heavy)s THEN 0 ELSE g %% (SELECT count(*) FROM wingman_matches) END
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, {"c1": c1.pk, "c2": c2.pk, "total": total, "heavy": min(5000, total // 10)})

    def _fill_python(self, total: int, c1, c2) -> None:
        matches = list(WingmanMatch.objects.order_by("user1_id").values_list("pk", "user1_id", "user2_id"))
        heavy = min(5000, total // 10)
        now = timezone.now()
        snapshot = WingmanSession.snapshot_fields(c1, c2)
        batch = []
        for g in range(1, total + 1):
            match_pk, u1, u2 = matches[0 if g <= heavy else g % len(matches)]
            status = STATUSES[g % 4]
            batch.append(WingmanSession(
                id=uuid.uuid4(), match_id=match_pk, user1_id=u1, user2_id=u2, venue_name=f"Venue {g}",
                scheduled_time=now - timedelta(minutes=g), status=status,
                completed_at=now if status == "completed" else None,
                user1_completed_confirmed_by_user2=status == "completed",
                user2_completed_confirmed_by_user1=status == "completed",
                **snapshot,
            ))
            if len(batch) == 5000:
                WingmanSession.objects.bulk_create(batch)
                batch = []
        WingmanSession.objects.bulk_create(batch)

    # -- measuring --------------------------------------------------------------

    def _time(self, client: Client, path: str, repeat: int, *, before=None, **headers) -> dict:
        durations = []
        statuses = set()
        for _ in range(repeat):
            if before:
                before()
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            durations.append(time.perf_counter() - started)
            statuses.add(response.status_code)
        with CaptureQueriesContext(connection) as queries:
            if before:
                before()
            client.get(path, headers=headers)
        return {"median": statistics.median(durations), "p95": sorted(durations)[int(0.95 * len(durations)) - 1],
                "queries": len(queries), "statuses": sorted(statuses)}

    def _run(self, total: int, repeat: int, on_postgres: bool) -> None:
        alice, bob = self._fill(total, on_postgres)
        live = WingmanSession.objects.filter(user1=alice).order_by("-scheduled_time").first()
        WingmanSession.objects.filter(pk=live.pk).update(
            status="in_progress", scheduled_time=timezone.now() - timedelta(minutes=5),
            started_at=timezone.now(), running_since=timezone.now(), user1_checked_in_at=timezone.now(),
            completed_at=None, user1_completed_confirmed_by_user2=False, user2_completed_confirmed_by_user1=False,
            notes="Benchmark notes",
        )
        client = Client()
        client.force_login(alice)
        detail = f"/api/sessions/{live.pk}/"
        etag = client.get(detail).headers.get("ETag", "")
        page = f"/sessions/{live.pk}/"
        page_etag = client.get(page, headers={"HX-Request": "true"}).headers.get("ETag", "")
        mine = WingmanSession.objects.filter(user1=alice).count() + WingmanSession.objects.filter(user2=alice).count()

        measurements = [
            ("baseline: GET /healthz", "/healthz", {}, None),
            ("session read, API, cache cold", detail, {}, cache.clear),
            ("session read, API, cache warm", detail, {}, None),
            ("session read, API, 304", detail, {"If-None-Match": etag}, None),
            ("active session page", page, {}, None),
            ("active session poll (HTMX), 304", page, {"HX-Request": "true", "If-None-Match": page_etag}, None),
            ("history API, first page", "/api/sessions/?limit=20", {}, None),
            ("history API, status filter", "/api/sessions/?status=completed&limit=20", {}, None),
            ("history API, offset 4000", "/api/sessions/?limit=20&offset=4000", {}, None),
            ("history page", "/sessions/", {}, None),
            ("stats", "/api/me/stats/", {}, None),
        ]
        self.stdout.write(f"database: {connection.vendor}; {total:,} sessions, the measured user has {mine:,}; "
                          f"{repeat} requests each\n")
        self.stdout.write(f"{'what':40} {'median ms':>10} {'p95 ms':>8} {'x baseline':>10} {'queries':>8}  status")
        baseline = None
        for label, path, headers, before in measurements:
            result = self._time(client, path, repeat, before=before, **headers)
            baseline = baseline or result["median"]
            self.stdout.write(
                f"{label:40} {result['median'] * 1000:10.2f} {result['p95'] * 1000:8.2f} "
                f"{result['median'] / baseline:10.1f} {result['queries']:8d}  {result['statuses']}"
            )

        tracemalloc.start()
        client.get("/api/sessions/?limit=100")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.stdout.write(f"\npeak Python memory for one 100-item history page: {peak / 1024:.0f} KiB")
        self._compare_history_queries(alice, repeat)
        if on_postgres:
            self._explain(alice)

    def _compare_history_queries(self, user, repeat: int) -> None:
        """The same first page read two ways in this run: plain "user1 OR user2" + sort, and HistoryQuerySet."""
        from sessions_app.selectors import _with_people, session_list_for_user, sessions_of_user

        def plain():
            return list(_with_people(sessions_of_user(user)).defer("notes").order_by("-scheduled_time", "-id")[:20])

        def indexed():
            return list(session_list_for_user(user=user)[:20])

        assert [s.pk for s in plain()] == [s.pk for s in indexed()]
        timings = {}
        for name, read in (("plain OR + sort", plain), ("index-backed (HistoryQuerySet)", indexed)):
            durations = []
            for _ in range(repeat):
                started = time.perf_counter()
                read()
                durations.append(time.perf_counter() - started)
            timings[name] = statistics.median(durations)
        self.stdout.write("\nfirst history page of 20, the query alone:")
        base = timings["plain OR + sort"]
        for name, median in timings.items():
            self.stdout.write(f"    {name:34} {median * 1000:8.2f} ms  x{median / base:5.2f} of plain")

    def _explain(self, user) -> None:
        from sessions_app.selectors import SessionFilters, session_list_for_user

        queryset = session_list_for_user(user=user, filters=SessionFilters(status="completed"))[:20]
        plan = queryset.explain()
        uses_index = "Index" in plan
        self.stdout.write(f"history query plan uses an index: {uses_index}")
        for line in plan.splitlines()[:8]:
            self.stdout.write(f"    {line}")
