"""purge_idempotency_records (and the hourly Celery task): Idempotency-Key records older than 24 hours go, of
every user, in batches; younger ones stay. And the daily task that flushes expired refresh tokens."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from sessions_app.api.idempotency import expired_records_purge
from sessions_app.models import IdempotencyRecord
from tests.conftest import at_once, command_output, on_postgres, require_or_skip
from wingman.celery import app


def records(user, *ages_in_hours: float) -> list[IdempotencyRecord]:
    made = []
    for number, hours in enumerate(ages_in_hours):
        record = IdempotencyRecord.objects.create(user=user, key=f"{user.pk}-{number}-{hours}", method="POST",
                                                  path="/api/sessions/x/confirm/", request_hash="h")
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=hours))
        made.append(record)
    return made


def left() -> set[str]:
    return set(IdempotencyRecord.objects.values_list("key", flat=True))


def purge() -> str:
    return command_output("purge_idempotency_records").strip()


def test_it_deletes_every_users_expired_records_and_keeps_the_rest(alice, bob):
    records(alice, 25, 24.1, 23.9, 1)
    records(bob, 72, 0)
    assert purge() == "Deleted 3 idempotency record(s) older than 24 hours."
    assert left() == {f"{alice.pk}-2-23.9", f"{alice.pk}-3-1", f"{bob.pk}-1-0"}


def test_running_it_again_deletes_nothing(alice, unchanged):
    records(alice, 30, 2)
    purge()
    with unchanged():
        assert purge() == "Deleted 0 idempotency record(s) older than 24 hours."


def test_it_works_through_more_records_than_one_batch(alice, bob, django_assert_max_num_queries):
    records(alice, *[25 + n for n in range(5)], 3)
    records(bob, 48, 49)
    with django_assert_max_num_queries(8):  # 4 batches of at most 2: a select and a delete each
        assert expired_records_purge(batch=2) == 7
    assert left() == {f"{alice.pk}-5-3"}


def test_it_measures_age_from_the_time_it_is_given(alice):
    records(alice, 10, 2)
    assert expired_records_purge(now=timezone.now() + timedelta(hours=20)) == 1
    assert left() == {f"{alice.pk}-1-2"}


def test_the_celery_task_purges_and_the_beat_schedule_runs_it_hourly(alice):
    records(alice, 25, 1)
    app.loader.import_default_modules()  # the task modules a worker finds (autodiscover_tasks), as it does
    registered = app.tasks["sessions.purge_idempotency_records"]  # what a worker runs for beat's message
    entry = next(entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
                 if entry["task"] == "sessions.purge_idempotency_records")
    assert entry["schedule"] == timedelta(hours=1)
    assert registered() == "1"
    assert left() == {f"{alice.pk}-1-1"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_share_the_work(alice, bob):
    require_or_skip(on_postgres(), "concurrent sweeps need PostgreSQL", "WINGMAN_REQUIRE_POSTGRES")
    records(alice, *[25 + n for n in range(40)], 1)
    records(bob, *[30 + n for n in range(40)])
    counts = at_once(lambda: expired_records_purge(batch=7), 2)
    assert sum(counts) == 80
    assert left() == {f"{alice.pk}-40-1"}


def test_the_daily_task_flushes_expired_refresh_tokens(alice, bob):
    expired, current = RefreshToken.for_user(alice), RefreshToken.for_user(bob)
    expired.blacklist()
    OutstandingToken.objects.filter(jti=expired["jti"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    app.loader.import_default_modules()
    (entry,) = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
                if entry["task"] == "sessions.flush_expired_tokens"]
    assert entry["schedule"] == timedelta(days=1)
    app.tasks["sessions.flush_expired_tokens"]()
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [current["jti"]]
    assert not BlacklistedToken.objects.exists()  # went with its token
